// math.log — y = ln(x + offset), element-wise, in place, as
// torch.log(x + offset) on float32 (the sum is rounded to float32 first).
// The natural logarithm; x + offset ≤ 0 gives -inf/NaN as in torch, which
// the engine reports as a non-finite value from this step.
#include "stages.hpp"

#include "../common/vector_log.hpp"

#include <featpipe/sdk.hpp>

namespace featpipe::math {
namespace {

using plugins::log_inplace;

class Log final : public sdk::Stage, public sdk::StageDefaults {
 public:
  static constexpr const char* kName = "math.log";
  static constexpr const char* kDoc =
      "natural logarithm, element-wise: y = ln(x + offset), as torch.log(x + offset) in float32. "
      "In place; streams.";
  static constexpr const char* kExample = "- use: math.log\n  with: {offset: 1.0e-6}";
  static constexpr fp_param_desc kParams[] = {
      sdk::Param::Float("offset", "1e-6").doc("added to x before the logarithm (keeps log(0) finite)")};

  explicit Log(const sdk::Params& p) : offset_(static_cast<float>(p.f("offset"))) {}

  sdk::Spec configure(const sdk::Spec& in, fp_stream_info& info) override {
    info.hop = in.stream_axis() >= 0 ? 1 : 0;
    return in;
  }

  void push(fp_tensor& in, fp_tensor& out) override {
    log_inplace(in.data, sdk::numel(in), offset_);
    out = in;
  }

 private:
  float offset_;
};

}  // namespace

fp_stage_desc log_stage() { return sdk::stage<Log>(); }

}  // namespace featpipe::math
