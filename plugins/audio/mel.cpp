// audio.mel — mel filterbank applied to a spectrogram,
// ≡ torchaudio.functional.melscale_fbanks (HTK or Slaney scale and norm)
// applied as spectrogram @ fbanks.
//
//   - use: audio.mel
//     with: {n_mels: 80}
//
// Input [..., frame, freq], output [..., frame, mel]. The bins' frequencies
// are linspace(0, sample_rate // 2, freq), as torchaudio's; f_max defaults
// to sample_rate // 2. When the sample rate is not known at load time the
// filterbank is built at start() from the input's concrete rate. The
// triangles are applied as a sparse band matrix (a few bins each), not as
// a dense [freq, mel] product.
#include "dsp.hpp"
#include "stages.hpp"

#include <cmath>

namespace featpipe::audio {
namespace {

using sdk::check;

class Mel final : public sdk::Stage, public sdk::StageDefaults {
 public:
  static constexpr const char* kName = "audio.mel";
  static constexpr const char* kDoc =
      "mel filterbank over the last axis (freq -> mel); ≡ torchaudio.functional.melscale_fbanks";
  static constexpr const char* kExample = "- use: audio.mel\n  with: {n_mels: 80}";
  static constexpr fp_param_desc kParams[] = {
      sdk::Param::Int("n_mels", "128").range(1, 65536).doc("number of mel bands"),
      sdk::Param::Float("f_min", "0.0").range(0, 1e7).unit("Hz").doc("lowest frequency"),
      sdk::Param::Float("f_max", "null").nullable().range(0, 1e7).unit("Hz")
          .doc("highest frequency; default sample_rate // 2"),
      sdk::Param::Choice("mel_scale", "htk", "htk|slaney").doc("mel scale formula"),
      sdk::Param::Choice("norm", "none", "none|slaney").doc("slaney: divide each triangle by its width (constant energy)"),
  };

  explicit Mel(const sdk::Params& p)
      : n_mels_(p.i("n_mels")),
        f_min_(p.f("f_min")),
        f_max_(p.is_null("f_max") ? -1.0 : p.f("f_max")),
        slaney_scale_(p.s("mel_scale") == "slaney"),
        slaney_norm_(p.s("norm") == "slaney") {}

  sdk::Spec configure(const sdk::Spec& in, fp_stream_info& info) override {
    check(in.rank() >= 1 && in.axis(in.rank() - 1) == "freq", nullptr,
          "audio.mel takes a spectrogram [..., freq], got ", in.axes_text());
    const int64_t n_freqs = in.dim(in.rank() - 1);
    check(n_freqs >= 2, nullptr, "audio.mel needs at least 2 frequency bins, got ", n_freqs);
    const double rate = in.attr("sample_rate");
    if (std::isfinite(rate)) build(rate, n_freqs);
    sdk::Spec out = in;
    out.set_axis(in.rank() - 1, "mel", n_mels_);
    info.hop = in.stream_axis() >= 0 ? 1.0 : 0.0;
    return out;
  }

  void push(fp_tensor& in, fp_tensor& out) override {
    check(bands_.outputs() == n_mels_, nullptr, "audio.mel: the input has no sample_rate attribute");
    const int64_t n_freqs = in.shape[in.rank - 1];
    check(n_freqs == bands_.inputs(), nullptr, "audio.mel: expected ", bands_.inputs(), " bins, got ", n_freqs);
    const int64_t rows = leading_count(in, 1);
    out_.resize(static_cast<size_t>(rows * n_mels_));
    bands_.apply_rows(in.data, out_.data(), rows, n_freqs, n_mels_);
    out = in;
    out.data = out_.data();
    out.shape[in.rank - 1] = n_mels_;
  }

 private:
  void build(double rate, int64_t n_freqs) {
    if (rate == built_rate_ && n_freqs == bands_.inputs()) return;  // idempotent per input
    const double f_max = f_max_ >= 0 ? f_max_ : std::floor(rate / 2.0);
    check(f_min_ < f_max, f_max_ >= 0 ? "f_max" : "f_min", "f_min must be below f_max, got ", f_min_, " >= ", f_max,
          f_max_ >= 0 ? "" : " (sample_rate // 2)");
    bands_.assign(torch_mel_fbanks(n_freqs, f_min_, f_max, n_mels_, rate, slaney_norm_, slaney_scale_), n_mels_,
                  n_freqs);
    built_rate_ = rate;
  }

  int64_t n_mels_;
  double f_min_, f_max_;
  bool slaney_scale_, slaney_norm_;
  Bands bands_;
  double built_rate_ = -1;
  std::vector<float> out_;
};

}  // namespace

fp_stage_desc mel_stage() { return sdk::stage<Mel>(); }

}  // namespace featpipe::audio
