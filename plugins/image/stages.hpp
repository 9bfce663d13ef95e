// The stages of the featpipe-image plugin; each is defined, with its
// parameter schema, in its own .cpp.
#pragma once

#include <featpipe/plugin.h>

namespace featpipe::image {

fp_stage_desc decode_stage();       // image.decode       decode.cpp
fp_stage_desc resize_stage();       // image.resize       resize.cpp
fp_stage_desc center_crop_stage();  // image.center_crop  center_crop.cpp
fp_stage_desc normalize_stage();    // image.normalize    normalize.cpp

}  // namespace featpipe::image
