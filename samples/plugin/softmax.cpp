// norm.softmax — y = exp(x/T - max) / sum(exp(x/T - max)) along an axis,
// as torch.softmax(x / T, dim). A complete plugin in one file: the stage
// class with its parameter schema, and the entry point.
#include <featpipe/sdk.hpp>

#include <cmath>
#include <vector>

namespace sdk = featpipe::sdk;

namespace {

class Softmax final : public sdk::Stage, public sdk::StageDefaults {
 public:
  static constexpr const char* kName = "norm.softmax";
  static constexpr const char* kDoc = "softmax along `axis` with temperature T, as torch.softmax(x / T, dim)";
  static constexpr const char* kExample = "- use: norm.softmax\n  with: {axis: -1, temperature: 1.0}";
  static constexpr fp_param_desc kParams[] = {
      sdk::Param::Axis("axis", "-1").doc("axis name or index the probabilities sum to 1 along"),
      sdk::Param::Float("temperature", "1").range(1e-6, 1e6).doc("T: > 1 flattens, < 1 sharpens"),
  };

  explicit Softmax(const sdk::Params& p) : axis_text_(p.s("axis")), inv_t_(1.0 / p.f("temperature")) {}

  sdk::Spec configure(const sdk::Spec& in, fp_stream_info& info) override {
    axis_ = in.resolve_axis(axis_text_, "axis");
    // Along the stream axis every output depends on the whole input: the
    // engine then hands the stage all of it in one push.
    info.whole_input = axis_ == in.stream_axis();
    info.hop = in.stream_axis() >= 0 ? 1 : 0;
    return in;
  }

  void push(fp_tensor& in, fp_tensor& out) override {
    apply(in);
    out = in;  // in place
  }

 private:
  void apply(fp_tensor& t) const {
    const int64_t len = t.shape[axis_];
    const int64_t inner = sdk::span_of(t, axis_ + 1, t.rank);
    const int64_t outer = sdk::span_of(t, 0, axis_);
    std::vector<double> e(static_cast<size_t>(len));
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t i = 0; i < inner; ++i) {
        float* x = t.data + o * len * inner + i;
        double m = -INFINITY, sum = 0;
        for (int64_t k = 0; k < len; ++k) m = std::max(m, x[k * inner] * inv_t_);
        for (int64_t k = 0; k < len; ++k) sum += e[k] = std::exp(x[k * inner] * inv_t_ - m);
        for (int64_t k = 0; k < len; ++k) x[k * inner] = static_cast<float>(e[k] / sum);
      }
  }

  std::string axis_text_;
  double inv_t_;
  int axis_ = -1;
};

}  // namespace

FEATPIPE_PLUGIN("featpipe-softmax-sample", "1.0.0", sdk::stage<Softmax>())
