// At most how many threads a backend's libraries (OpenMP, OpenBLAS, OpenCV)
// may use for one forward pass in this worker: a cap on each library's own
// default, never a raise. `featpipe run -j N` sets
// FEATPIPE_THREADS to each worker's share of the cores before it starts
// them (framework/src/batch/library_threads.cpp), so that N workers do not
// each start a pool as large as the machine; a user may set it too.
// Backends apply it on their forward passes, not at load: load-time passes
// run single-threaded in the parent, whose thread pools `fork` would not
// carry into the workers.
#pragma once

#include <cstdlib>

namespace featpipe::cnn {

// FEATPIPE_THREADS, or 0 when unset or not a positive count (the library's
// own default then).
inline int worker_threads() {
  const char* s = std::getenv("FEATPIPE_THREADS");
  if (!s || !*s) return 0;
  char* end = nullptr;
  const long n = std::strtol(s, &end, 10);
  return *end == '\0' && n > 0 && n <= 4096 ? static_cast<int>(n) : 0;
}

}  // namespace featpipe::cnn
