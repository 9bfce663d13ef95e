// The stages of the featpipe-cnn plugin.
#pragma once

#include <featpipe/plugin.h>

namespace featpipe::cnn {

fp_stage_desc features_stage();  // cnn.features  features.cpp

}  // namespace featpipe::cnn
