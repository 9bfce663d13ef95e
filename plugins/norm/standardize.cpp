// norm.standardize — z-score per slice along an axis:
//   y = (x − mean) / (σ + eps),  σ = sqrt(mean((x − mean)²))
// σ is the population standard deviation (ddof 0, numpy's default and
// torch's unbiased=False); eps keeps a constant slice finite (it becomes 0).
// Two passes in double (mean, then the centred sum of squares).
#include "slices.hpp"
#include "stages.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

namespace featpipe::norm {
namespace {

class Standardize final : public SliceStage, public sdk::StageDefaults {
 public:
  static constexpr const char* kName = "norm.standardize";
  static constexpr const char* kDoc =
      "z-score per slice along `axis` (or over `all`): y = (x - mean) / (std + eps), std the "
      "population standard deviation (ddof 0); a constant slice becomes 0. Along the stream axis "
      "(or `all` with one) it needs the whole input.";
  static constexpr const char* kExample = "- use: norm.standardize\n  with: {axis: frame, eps: 1.0e-8}";
  static constexpr fp_param_desc kParams[] = {
      sdk::Param::Axis("axis", nullptr).doc("axis the slices run along (required): a name, an index or all"),
      sdk::Param::Float("eps", "1e-8").at_least(0).doc("added to the standard deviation")};

  explicit Standardize(const sdk::Params& p) : SliceStage(p.s("axis")), eps_(p.f("eps")) {}

 protected:
  void apply(float* x, const Layout& l) override {
    const auto inner = static_cast<size_t>(l.inner);
    mean_.resize(inner);
    var_.resize(inner);
    if (l.len == 0) return;
    for (int64_t o = 0; o < l.outer; ++o) {
      float* block = x + o * l.len * l.inner;
      std::fill(mean_.begin(), mean_.end(), 0.0);
      std::fill(var_.begin(), var_.end(), 0.0);
      for (int64_t r = 0; r < l.len; ++r) {
        const float* row = block + r * l.inner;
        for (size_t j = 0; j < inner; ++j) mean_[j] += row[j];
      }
      for (size_t j = 0; j < inner; ++j) mean_[j] /= double(l.len);
      for (int64_t r = 0; r < l.len; ++r) {
        const float* row = block + r * l.inner;
        for (size_t j = 0; j < inner; ++j) {
          const double d = double(row[j]) - mean_[j];
          var_[j] += d * d;
        }
      }
      for (size_t j = 0; j < inner; ++j) var_[j] = 1.0 / (std::sqrt(var_[j] / double(l.len)) + eps_);
      for (int64_t r = 0; r < l.len; ++r) {
        float* row = block + r * l.inner;
        for (size_t j = 0; j < inner; ++j) row[j] = static_cast<float>((double(row[j]) - mean_[j]) * var_[j]);
      }
    }
  }

 private:
  double eps_;
  std::vector<double> mean_, var_;  // var_ ends as 1 / (std + eps)
};

}  // namespace

fp_stage_desc standardize_stage() { return sdk::stage<Standardize>(); }

}  // namespace featpipe::norm
