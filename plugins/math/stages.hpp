// The math.* stages, one per .cpp; plugin.cpp lists them.
#pragma once

#include <featpipe/plugin.h>

namespace featpipe::math {

fp_stage_desc log_stage();
fp_stage_desc pool_stage();

}  // namespace featpipe::math
