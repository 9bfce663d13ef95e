// featpipe-cnn: CNN feature maps from ONNX models (OpenCV DNN).
#include "stages.hpp"

#include <featpipe/sdk.hpp>
#include <featpipe/version.h>  // built-in plugins carry featpipe's version

FEATPIPE_PLUGIN("featpipe-cnn", FEATPIPE_VERSION, featpipe::cnn::features_stage())
