// The norm.* stages, one per .cpp; plugin.cpp lists them.
#pragma once

#include <featpipe/plugin.h>

namespace featpipe::norm {

fp_stage_desc l2_stage();
fp_stage_desc minmax_stage();
fp_stage_desc standardize_stage();
fp_stage_desc power_stage();

}  // namespace featpipe::norm
