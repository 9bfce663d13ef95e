// featpipe-norm: per-slice normalizations of any tensor.
#include "stages.hpp"

#include <featpipe/sdk.hpp>
#include <featpipe/version.h>  // built-in plugins carry featpipe's version

FEATPIPE_PLUGIN("featpipe-norm", FEATPIPE_VERSION, featpipe::norm::l2_stage(), featpipe::norm::minmax_stage(),
                featpipe::norm::standardize_stage(), featpipe::norm::power_stage())
