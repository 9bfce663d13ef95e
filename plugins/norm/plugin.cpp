// featpipe-norm: per-slice normalizations of any tensor.
#include "stages.hpp"

#include <featpipe/sdk.hpp>

FEATPIPE_PLUGIN("featpipe-norm", "0.1.0", featpipe::norm::l2_stage(), featpipe::norm::minmax_stage(),
                featpipe::norm::standardize_stage(), featpipe::norm::power_stage())
