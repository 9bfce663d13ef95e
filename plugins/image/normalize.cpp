// image.normalize — per-channel (x − mean[c]) / std[c] over [channel, height,
// width] (or [..., channel, height, width]), ≡ torchvision.transforms.Normalize.
// One value applies to every channel.
#include "stages.hpp"

#include <featpipe/sdk.hpp>

#include <vector>

namespace featpipe::image {
namespace {

using sdk::Param;
using sdk::Spec;

class Normalize final : public sdk::Stage, public sdk::StageDefaults {
 public:
  static constexpr const char* kName = "image.normalize";
  static constexpr const char* kDoc =
      "Per-channel (x - mean) / std on [..., channel, height, width], as torchvision Normalize.";
  static constexpr const char* kExample =
      "- use: image.normalize\n  with: {mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225]}";
  static constexpr fp_param_desc kParams[] = {
      Param::Floats("mean", "[0.485, 0.456, 0.406]").count(1, 0).doc("per-channel mean (ImageNet's by default)"),
      Param::Floats("std", "[0.229, 0.224, 0.225]").count(1, 0).doc("per-channel standard deviation, nonzero")};

  explicit Normalize(const sdk::Params& p) : mean_(p.numbers("mean")), std_(p.numbers("std")) {
    for (double s : std_) sdk::check(s != 0.0, "std", "std must be nonzero, got ", s);
  }

  Spec configure(const Spec& in, fp_stream_info& info) override {
    info = fp_stream_info{};
    sdk::check(in.rank() >= 3, nullptr, "image.normalize needs [..., channel, height, width], got ",
               in.axes_text());
    const int64_t c = in.dim(in.rank() - 3);
    check_count(c, mean_, "mean");
    check_count(c, std_, "std");
    return in;
  }

  void push(fp_tensor& in, fp_tensor& out) override {
    const int r = in.rank;
    const int64_t c = in.shape[r - 3], plane = in.shape[r - 2] * in.shape[r - 1];
    check_count(c, mean_, "mean");
    check_count(c, std_, "std");
    const int64_t outer = sdk::span_of(in, 0, r - 3);
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t ch = 0; ch < c; ++ch) {
        const float m = static_cast<float>(pick(mean_, ch)), s = static_cast<float>(pick(std_, ch));
        float* x = in.data + (o * c + ch) * plane;
        for (int64_t k = 0; k < plane; ++k) x[k] = (x[k] - m) / s;  // as torch: subtract, then divide
      }
    out = in;  // in place
  }

 private:
  static double pick(const std::vector<double>& v, int64_t ch) { return v.size() == 1 ? v[0] : v[ch]; }
  static void check_count(int64_t c, const std::vector<double>& v, const char* name) {
    sdk::check(c < 0 || v.size() == 1 || static_cast<int64_t>(v.size()) == c, name, name, " has ", v.size(),
               " values for ", c, " channels");
  }

  std::vector<double> mean_, std_;
};

}  // namespace

fp_stage_desc normalize_stage() { return sdk::stage<Normalize>(); }

}  // namespace featpipe::image
