// featpipe-math: element-wise functions and pooling of any tensor.
#include "stages.hpp"

#include <featpipe/sdk.hpp>

FEATPIPE_PLUGIN("featpipe-math", "0.1.0", featpipe::math::log_stage(), featpipe::math::pool_stage())
