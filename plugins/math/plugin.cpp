// featpipe-math: element-wise functions and pooling of any tensor.
#include "stages.hpp"

#include <featpipe/sdk.hpp>
#include <featpipe/version.h>  // built-in plugins carry featpipe's version

FEATPIPE_PLUGIN("featpipe-math", FEATPIPE_VERSION, featpipe::math::log_stage(), featpipe::math::pool_stage())
