// featpipe-image: decoding and torchvision-compatible preprocessing.
#include "stages.hpp"

#include <featpipe/sdk.hpp>
#include <featpipe/version.h>  // built-in plugins carry featpipe's version

using namespace featpipe::image;

FEATPIPE_PLUGIN("featpipe-image", FEATPIPE_VERSION, decode_stage(), resize_stage(), center_crop_stage(),
                normalize_stage())
