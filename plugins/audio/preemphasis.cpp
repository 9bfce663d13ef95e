// audio.preemphasis — y[t] = x[t] − coef · x[t−1], y[0] = x[0]
// ≡ torchaudio.functional.preemphasis.
//
//   - use: audio.preemphasis
//     with: {coef: 0.97}
//
// Input and output [..., time]; streams (keeps the last sample of each
// channel between pushes).
#include "dsp.hpp"
#include "stages.hpp"

#include <cmath>

namespace featpipe::audio {
namespace {

using sdk::check;

class Preemphasis final : public sdk::Stage, public sdk::StageDefaults {
 public:
  static constexpr const char* kName = "audio.preemphasis";
  static constexpr const char* kDoc = "y[t] = x[t] - coef*x[t-1] along time; ≡ torchaudio.functional.preemphasis";
  static constexpr const char* kExample = "- use: audio.preemphasis\n  with: {coef: 0.97}";
  static constexpr fp_param_desc kParams[] = {
      sdk::Param::Float("coef", "0.97").range(-1, 1).doc("pre-emphasis coefficient"),
  };

  explicit Preemphasis(const sdk::Params& p) : coef_(static_cast<float>(p.f("coef"))) {}

  sdk::Spec configure(const sdk::Spec& in, fp_stream_info& info) override {
    check(in.rank() >= 1 && in.axis(in.rank() - 1) == "time", nullptr,
          "audio.preemphasis takes a signal [..., time], got ", in.axes_text());
    info.hop = 1.0;
    info.history = 1;
    return in;
  }

  void reset() override { last_.clear(); }

  void push(fp_tensor& in, fp_tensor& out) override {
    const int64_t n = in.shape[in.rank - 1];
    const int64_t channels = leading_count(in, 1);
    if (static_cast<int64_t>(last_.size()) != channels) last_.assign(static_cast<size_t>(channels), kNone);
    for (int64_t c = 0; c < channels; ++c) {
      float* x = in.data + c * n;
      if (n == 0) continue;
      const float prev = last_[static_cast<size_t>(c)];
      const bool first = std::isnan(prev);
      const float keep = x[n - 1];
      for (int64_t t = n - 1; t >= 1; --t) x[t] -= coef_ * x[t - 1];
      if (!first) x[0] -= coef_ * prev;
      last_[static_cast<size_t>(c)] = keep;
    }
    out = in;
  }

 private:
  static constexpr float kNone = std::numeric_limits<float>::quiet_NaN();
  float coef_;
  std::vector<float> last_;  // last sample of each channel; NaN before the first
};

}  // namespace

fp_stage_desc preemphasis_stage() { return sdk::stage<Preemphasis>(); }

}  // namespace featpipe::audio
