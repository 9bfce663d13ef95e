// math.pool — reduces `axes` (removed from the output) by
//   avg: mean;  max: maximum;
//   gem: generalized mean, (mean(clamp(x, min=1e-6)^p))^(1/p) — GeM pooling
//        of Radenović et al. (TPAMI 2018), the clamp as in their code
//        (cirtorch's gem, eps 1e-6); p = 1 is the mean of the clamped values,
//        large p tends to max.
// Sums are accumulated in double. Over the stream axis it needs the whole
// input (the engine hands it over in one push); otherwise it pools each
// chunk (hop 1).
#include "stages.hpp"

#include <featpipe/sdk.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

namespace featpipe::math {
namespace {

constexpr double kGemClamp = 1e-6;

class Pool final : public sdk::Stage, public sdk::StageDefaults {
 public:
  static constexpr const char* kName = "math.pool";
  static constexpr const char* kDoc =
      "pools over `axes`, which are removed: avg (mean), max, or gem = (mean(clamp(x, 1e-6)^p))^(1/p) "
      "(generalized-mean pooling, Radenovic et al.). `all` pools everything to one value, shaped [value=1]. Over the "
      "stream axis it needs the whole input.";
  static constexpr const char* kExample = "- use: math.pool\n  with: {op: gem, axes: [height, width], p: 3}";
  static constexpr fp_param_desc kParams[] = {
      sdk::Param::Choice("op", "avg", "avg|max|gem").doc("reduction"),
      sdk::Param::Axes("axes", nullptr).count(1, FP_MAX_RANK).doc("axes pooled away (required): names, indices or all"),
      sdk::Param::Float("p", "3").range(1e-3, 1e3).doc("GeM exponent (op gem only)")};

  explicit Pool(const sdk::Params& p)
      : op_(p.s("op") == "max" ? Op::kMax : p.s("op") == "gem" ? Op::kGem : Op::kAvg),
        axes_text_(p.strings("axes")),
        p_(p.f("p")) {}

  sdk::Spec configure(const sdk::Spec& in, fp_stream_info& info) override {
    sdk::check(in.rank() > 0, "axes", "nothing to pool: the input has no axes");
    std::fill(std::begin(pooled_), std::end(pooled_), false);
    bool listed[FP_MAX_RANK] = {};
    for (const std::string& text : axes_text_) {
      if (text == "all") {
        std::fill(pooled_, pooled_ + in.rank(), true);
        continue;
      }
      const int k = in.resolve_axis(text, "axes");
      sdk::check(!listed[k], "axes", "axis '", in.axis(k), "' is listed twice");
      listed[k] = pooled_[k] = true;
    }
    const int stream_axis = in.stream_axis();
    const bool whole = stream_axis >= 0 && pooled_[stream_axis];
    sdk::Spec out = in;
    for (int k = in.rank() - 1; k >= 0; --k)
      if (pooled_[k]) out.remove(k);
    // Every axis pooled: one value, kept as a [value=1] tensor (rank 0 is
    // what a source step receives, not a tensor passed between steps).
    scalar_ = out.rank() == 0;
    if (scalar_) out.append("value", 1);
    info.whole_input = whole ? 1 : 0;
    info.whole_input_reason = "axes include the stream axis, which pools every frame of the input: pool only other axes to stream";
    info.hop = stream_axis >= 0 && !whole ? 1 : 0;
    return out;
  }

  void push(fp_tensor& in, fp_tensor& out) override { pool(in, out); }

 private:
  enum class Op { kAvg, kMax, kGem };

  double lift(float x) const {  // what is summed for avg/gem
    if (op_ == Op::kAvg) return x;
    const double v = std::max(double(x), kGemClamp);
    return p_ == 3 ? v * v * v : p_ == 1 ? v : std::pow(v, p_);
  }

  // Reduces the pooled axes of `in` into `out` (storage owned here).
  void pool(const fp_tensor& in, fp_tensor& out) {
    const int r = in.rank;
    out = fp_tensor{};
    int64_t ostride[FP_MAX_RANK] = {};
    int64_t onum = 1, count = 1;
    for (int k = r - 1; k >= 0; --k) {
      if (pooled_[k]) {
        count *= in.shape[k];
      } else {
        ostride[k] = onum;
        onum *= in.shape[k];
      }
    }
    for (int k = 0; k < r; ++k)
      if (!pooled_[k]) out.shape[out.rank++] = in.shape[k];
    if (scalar_) out.shape[out.rank++] = 1;

    acc_.assign(static_cast<size_t>(onum), op_ == Op::kMax ? -std::numeric_limits<double>::infinity() : 0.0);
    const int64_t last = in.shape[r - 1], rows = last ? sdk::numel(in) / last : 0;
    const bool last_pooled = pooled_[r - 1];
    int64_t idx[FP_MAX_RANK] = {};
    int64_t off = 0;  // output offset of the current row
    for (int64_t row = 0; row < rows; ++row) {
      const float* x = in.data + row * last;
      double* a = acc_.data() + off;
      if (op_ == Op::kMax) {
        if (last_pooled)
          for (int64_t c = 0; c < last; ++c) *a = std::max(*a, double(x[c]));
        else
          for (int64_t c = 0; c < last; ++c) a[c] = std::max(a[c], double(x[c]));
      } else {
        if (last_pooled)
          for (int64_t c = 0; c < last; ++c) *a += lift(x[c]);
        else
          for (int64_t c = 0; c < last; ++c) a[c] += lift(x[c]);
      }
      for (int k = r - 2; k >= 0; --k) {  // next row: advance the index
        off += ostride[k];
        if (++idx[k] < in.shape[k]) break;
        off -= ostride[k] * in.shape[k];
        idx[k] = 0;
      }
    }

    values_.resize(acc_.size());
    for (size_t k = 0; k < acc_.size(); ++k) {
      double v = acc_[k];
      if (op_ != Op::kMax) v /= double(count);
      if (op_ == Op::kGem) v = std::pow(v, 1.0 / p_);
      values_[k] = static_cast<float>(v);
    }
    out.data = values_.data();
  }

  Op op_;
  std::vector<std::string> axes_text_;
  double p_;
  bool pooled_[FP_MAX_RANK] = {};
  bool scalar_ = false;  // every axis pooled
  std::vector<float> values_;
  std::vector<double> acc_;
};

}  // namespace

fp_stage_desc pool_stage() { return sdk::stage<Pool>(); }

}  // namespace featpipe::math
