// featpipe-image: decoding and torchvision-compatible preprocessing.
#include "stages.hpp"

#include <featpipe/sdk.hpp>

using namespace featpipe::image;

FEATPIPE_PLUGIN("featpipe-image", "0.1.0", decode_stage(), resize_stage(), center_crop_stage(),
                normalize_stage())
