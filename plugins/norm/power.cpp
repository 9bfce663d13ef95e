// norm.power — signed power, y = sign(x) · |x|^alpha, element-wise, in place
// (power normalization of embeddings; alpha 0.5 is the signed square root).
#include "stages.hpp"

#include <featpipe/sdk.hpp>

#include <cmath>

namespace featpipe::norm {
namespace {

class Power final : public sdk::Stage, public sdk::StageDefaults {
 public:
  static constexpr const char* kName = "norm.power";
  static constexpr const char* kDoc =
      "signed power, element-wise: y = sign(x) * |x|^alpha (alpha 0: sign(x)). In place; streams.";
  static constexpr const char* kExample = "- use: norm.power\n  with: {alpha: 0.5}";
  static constexpr fp_param_desc kParams[] = {
      sdk::Param::Float("alpha", "0.5").at_least(0).doc("exponent applied to |x|")};

  explicit Power(const sdk::Params& p) : alpha_(p.f("alpha")) {}

  sdk::Spec configure(const sdk::Spec& in, fp_stream_info& info) override {
    info.hop = in.stream_axis() >= 0 ? 1 : 0;
    return in;
  }

  void push(fp_tensor& in, fp_tensor& out) override {
    float* x = in.data;
    const int64_t n = sdk::numel(in);
    const auto a = static_cast<float>(alpha_);
    if (alpha_ == 1) {
      // identity
    } else if (alpha_ == 0) {
      for (int64_t k = 0; k < n; ++k) x[k] = x[k] > 0 ? 1.0f : x[k] < 0 ? -1.0f : 0.0f;
    } else if (alpha_ == 0.5) {
      for (int64_t k = 0; k < n; ++k) x[k] = std::copysign(std::sqrt(std::fabs(x[k])), x[k]);
    } else if (alpha_ == 2) {
      for (int64_t k = 0; k < n; ++k) x[k] = x[k] * std::fabs(x[k]);
    } else {
      for (int64_t k = 0; k < n; ++k) x[k] = std::copysign(std::pow(std::fabs(x[k]), a), x[k]);
    }
    out = in;
  }

 private:
  double alpha_;
};

}  // namespace

fp_stage_desc power_stage() { return sdk::stage<Power>(); }

}  // namespace featpipe::norm
