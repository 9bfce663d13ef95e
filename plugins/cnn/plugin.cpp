// featpipe-cnn: CNN feature maps from ONNX models (OpenCV DNN).
#include "stages.hpp"

#include <featpipe/sdk.hpp>

FEATPIPE_PLUGIN("featpipe-cnn", "0.1.0", featpipe::cnn::features_stage())
