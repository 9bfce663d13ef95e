/* FEATPIPE_API marks the symbols of the engine library, which is built with
 * hidden visibility: one definition for featpipe.h, featpipe.hpp and
 * runner.hpp. C and C++. */
#ifndef FEATPIPE_EXPORT_H
#define FEATPIPE_EXPORT_H

#define FEATPIPE_API __attribute__((visibility("default")))

#endif /* FEATPIPE_EXPORT_H */
