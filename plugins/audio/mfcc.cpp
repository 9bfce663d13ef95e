// audio.mfcc — DCT-II over the last axis (mel -> mfcc).
// `audio.stft → audio.mel → audio.db {top_db: 80} → audio.mfcc`
// ≡ torchaudio.transforms.MFCC (whose DCT is functional.create_dct).
//
//   - use: audio.mfcc
//     with: {n_mfcc: 13}
//
// Input [..., frame, mel], output [..., frame, mfcc]. Frame-wise: streams.
// y[k] = s_k · Σ_m x[m] cos(π/M · (m + 0.5) · k); ortho: s_0 = √(1/M),
// s_k = √(2/M); none: s_k = 2.
#include "dsp.hpp"
#include "stages.hpp"

#include <cmath>
#include <numbers>

namespace featpipe::audio {
namespace {

using sdk::check;

class Mfcc final : public sdk::Stage, public sdk::StageDefaults {
 public:
  static constexpr const char* kName = "audio.mfcc";
  static constexpr const char* kDoc =
      "DCT-II over the last axis (mel -> mfcc); stft → mel → db(top_db 80) → mfcc ≡ torchaudio.transforms.MFCC";
  static constexpr const char* kExample = "- use: audio.mfcc\n  with: {n_mfcc: 13}";
  static constexpr fp_param_desc kParams[] = {
      sdk::Param::Int("n_mfcc", "40").range(1, 65536).doc("coefficients kept (<= the number of mel bands)"),
      sdk::Param::Int("dct_type", "2").range(2, 2).doc("DCT type (only 2, as torchaudio)"),
      sdk::Param::Choice("norm", "ortho", "ortho|none").doc("DCT normalization"),
  };

  explicit Mfcc(const sdk::Params& p) : n_mfcc_(p.i("n_mfcc")), ortho_(p.s("norm") == "ortho") {}

  sdk::Spec configure(const sdk::Spec& in, fp_stream_info& info) override {
    check(in.rank() >= 1 && in.axis(in.rank() - 1) == "mel", nullptr,
          "audio.mfcc takes mel features [..., mel], got ", in.axes_text());
    const int64_t n_mels = in.dim(in.rank() - 1);
    check(n_mfcc_ <= n_mels, "n_mfcc", "n_mfcc must be <= the number of mel bands, got ", n_mfcc_, " > ", n_mels);
    if (n_mels != n_mels_) build(n_mels);
    sdk::Spec out = in;
    out.set_axis(in.rank() - 1, "mfcc", n_mfcc_);
    info.hop = in.stream_axis() >= 0 ? 1.0 : 0.0;
    return out;
  }

  void push(fp_tensor& in, fp_tensor& out) override {
    const int64_t m = in.shape[in.rank - 1];
    check(m == n_mels_, nullptr, "audio.mfcc: expected ", n_mels_, " mel bands, got ", m);
    const int64_t rows = leading_count(in, 1);
    out_.resize(static_cast<size_t>(rows * n_mfcc_));
    for (int64_t r = 0; r < rows; ++r) {
      const float* x = in.data + r * m;
      float* y = out_.data() + r * n_mfcc_;
      for (int64_t k = 0; k < n_mfcc_; ++k) {
        const double* d = dct_.data() + k * m;
        double acc = 0.0;
        for (int64_t j = 0; j < m; ++j) acc += d[j] * x[j];
        y[k] = static_cast<float>(acc);
      }
    }
    out = in;
    out.data = out_.data();
    out.shape[in.rank - 1] = n_mfcc_;
  }

 private:
  void build(int64_t n_mels) {
    n_mels_ = n_mels;
    dct_.resize(static_cast<size_t>(n_mfcc_ * n_mels));
    const double M = static_cast<double>(n_mels);
    for (int64_t k = 0; k < n_mfcc_; ++k) {
      const double s = ortho_ ? std::sqrt((k == 0 ? 1.0 : 2.0) / M) : 2.0;
      for (int64_t j = 0; j < n_mels; ++j)
        dct_[static_cast<size_t>(k * n_mels + j)] = s * std::cos(std::numbers::pi / M * (j + 0.5) * k);
    }
  }

  int64_t n_mfcc_;
  bool ortho_;
  int64_t n_mels_ = -1;
  std::vector<double> dct_;  // [n_mfcc, n_mels]
  std::vector<float> out_;
};

}  // namespace

fp_stage_desc mfcc_stage() { return sdk::stage<Mfcc>(); }

}  // namespace featpipe::audio
