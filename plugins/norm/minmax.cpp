// norm.minmax — per slice along an axis, maps [lo, hi] (the slice's own
// minimum and maximum) linearly onto [min, max]:
//   y = min + (x − lo) · (max − min) / (hi − lo)
// A constant slice (hi == lo) maps to `min`, as sklearn's MinMaxScaler does
// for a constant feature. Computed in double, so hi − lo cannot overflow.
#include "slices.hpp"
#include "stages.hpp"

#include <algorithm>
#include <limits>
#include <vector>

namespace featpipe::norm {
namespace {

class MinMax final : public SliceStage, public sdk::StageDefaults {
 public:
  static constexpr const char* kName = "norm.minmax";
  static constexpr const char* kDoc =
      "per slice along `axis` (or over `all`): y = min + (x - lo) * (max - min) / (hi - lo), lo/hi "
      "the slice's minimum/maximum; a constant slice becomes `min` (as sklearn's MinMaxScaler). "
      "Along the stream axis (or `all` with one) it needs the whole input.";
  static constexpr const char* kExample = "- use: norm.minmax\n  with: {axis: frame, min: 0, max: 1}";
  static constexpr fp_param_desc kParams[] = {
      sdk::Param::Axis("axis", nullptr).doc("axis the slices run along (required): a name, an index or all"),
      sdk::Param::Float("min", "0").doc("value the slice's minimum maps to"),
      sdk::Param::Float("max", "1").doc("value the slice's maximum maps to; > min")};

  explicit MinMax(const sdk::Params& p) : SliceStage(p.s("axis")), min_(p.f("min")), max_(p.f("max")) {
    sdk::check(max_ > min_, "max", "max must be > min, got max ", max_, " <= min ", min_);
  }

 protected:
  void apply(float* x, const Layout& l) override {
    const auto inner = static_cast<size_t>(l.inner);
    lo_.resize(inner);
    hi_.resize(inner);
    scale_.resize(inner);
    for (int64_t o = 0; o < l.outer; ++o) {
      float* block = x + o * l.len * l.inner;
      std::fill(lo_.begin(), lo_.end(), std::numeric_limits<float>::infinity());
      std::fill(hi_.begin(), hi_.end(), -std::numeric_limits<float>::infinity());
      for (int64_t r = 0; r < l.len; ++r) {
        const float* row = block + r * l.inner;
        for (size_t j = 0; j < inner; ++j) {
          lo_[j] = std::min(lo_[j], row[j]);
          hi_[j] = std::max(hi_[j], row[j]);
        }
      }
      for (size_t j = 0; j < inner; ++j) {
        const double range = double(hi_[j]) - double(lo_[j]);
        scale_[j] = range > 0 ? (max_ - min_) / range : 0.0;  // constant slice -> min
      }
      for (int64_t r = 0; r < l.len; ++r) {
        float* row = block + r * l.inner;
        for (size_t j = 0; j < inner; ++j)
          row[j] = static_cast<float>(min_ + (double(row[j]) - double(lo_[j])) * scale_[j]);
      }
    }
  }

 private:
  double min_, max_;
  std::vector<float> lo_, hi_;
  std::vector<double> scale_;
};

}  // namespace

fp_stage_desc minmax_stage() { return sdk::stage<MinMax>(); }

}  // namespace featpipe::norm
