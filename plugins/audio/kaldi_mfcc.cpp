// audio.kaldi_mfcc — Kaldi's MFCC (compute-mfcc-feats, MfccOptions with
// Kaldi's defaults), ≡ torchaudio.compliance.kaldi.mfcc(32768 · x,
// use_energy=True, ...). torchaudio's own MFCC (transforms.MFCC) is
// audio.stft → audio.mel → audio.db → audio.mfcc.
//
//   - use: audio.kaldi_mfcc
//     with: {num_ceps: 13}
//
// Input [..., time] in [-1, 1] with attribute sample_rate, output
// [..., frame, mfcc] (num_ceps). Per frame, as MfccComputer::Compute: the
// log mel energies of audio.fbank (same frames and banks, log floored at
// the float32 epsilon), an orthonormal DCT-II (Kaldi's ComputeDctMatrix,
// first num_ceps rows), the lifter 1 + Q/2·sin(πi/Q); with use_energy the
// frame's log-energy replaces C0; htk_compat moves C0 last, ×√2 when it is
// not the energy (HTK's DCT scale). A separate stage, not options of
// audio.mfcc: the energy comes from the time-domain frame, and a
// mfcc.conf then translates option for option. Streams.
#include "kaldi_stage.hpp"
#include "stages.hpp"

#include <limits>
#include <numbers>

namespace featpipe::audio {
namespace {

using sdk::check;

class KaldiMfcc final : public KaldiStage {
 public:
  static constexpr const char* kName = "audio.kaldi_mfcc";
  static constexpr const char* kDoc =
      "Kaldi MFCC (compute-mfcc-feats); ≡ torchaudio.compliance.kaldi.mfcc(32768·x, use_energy=True, ...)";
  static constexpr const char* kExample = "- use: audio.kaldi_mfcc\n  with: {num_ceps: 13}";
  // MfccOptions: Kaldi's defaults, but energy_floor (see its doc).
  static constexpr std::array<fp_param_desc, 6> kOwnParams = {
      sdk::Param::Int("num_ceps", "13").range(1, 65536).doc("cepstra kept, C0 included (<= num_mel_bins)"),
      sdk::Param::Float("cepstral_lifter", "22.0").range(0, 1e6)
          .doc("lifter Q: coefficient i scaled by 1 + Q/2·sin(πi/Q); 0: none"),
      sdk::Param::Bool("use_energy", "true").doc("the frame's log energy replaces C0"),
      sdk::Param::Float("energy_floor", "1.0").range(0, 1e30).doc(kEnergyFloorDoc),
      sdk::Param::Bool("raw_energy", "true").doc("energy before pre-emphasis and window"),
      sdk::Param::Bool("htk_compat", "false")
          .doc("C0 (or the energy) last instead of first; C0 scaled by √2 when not the energy, as HTK"),
  };
  static constexpr auto kParams = join(join(kMelParams, kFrameParams), kOwnParams);

  explicit KaldiMfcc(const sdk::Params& p)
      : KaldiStage(kName, "mfcc", frontend(p)),
        mel_(KaldiMelOptions::from(p)),
        num_ceps_(p.i("num_ceps")),
        use_energy_(p.b("use_energy")),
        htk_compat_(p.b("htk_compat")) {
    check(num_ceps_ <= mel_.num_bins, "num_ceps", "num_ceps must be <= num_mel_bins, got ", num_ceps_, " > ",
          mel_.num_bins);
    const double M = static_cast<double>(mel_.num_bins), Q = p.f("cepstral_lifter");
    dct_.resize(static_cast<size_t>(num_ceps_ * mel_.num_bins));
    for (int64_t k = 0; k < num_ceps_; ++k) {
      const double s = std::sqrt((k == 0 ? 1.0 : 2.0) / M);
      const double lifter = Q != 0.0 ? 1.0 + 0.5 * Q * std::sin(std::numbers::pi * static_cast<double>(k) / Q) : 1.0;
      for (int64_t j = 0; j < mel_.num_bins; ++j)
        dct_[static_cast<size_t>(k * mel_.num_bins + j)] =
            lifter * s * std::cos(std::numbers::pi / M * (static_cast<double>(j) + 0.5) * static_cast<double>(k));
    }
    log_mel_.resize(static_cast<size_t>(mel_.num_bins));
  }

 private:
  static KaldiFrontend frontend(const sdk::Params& p) {
    using E = KaldiFrontend::Energy;
    const E e = !p.b("use_energy") ? E::none : p.b("raw_energy") ? E::raw : E::windowed;
    return KaldiFrontend(KaldiFrameOptions::from(p), e, p.f("energy_floor"));
  }

  int64_t width() const override { return num_ceps_; }

  void build_tables(double rate) override {
    bands_.assign(kaldi_mel_banks(mel_, fe_.padded(), rate), mel_.num_bins, fe_.bins());
  }

  void row(const float* spectrum, double log_energy, float* y) override {
    constexpr double kEps = std::numeric_limits<float>::epsilon();  // Kaldi's log floor
    const int64_t m = mel_.num_bins;
    float* mel = log_mel_.data();
    bands_.apply(spectrum, mel);
    for (int64_t b = 0; b < m; ++b) mel[b] = static_cast<float>(std::log(std::max<double>(mel[b], kEps)));
    // Coefficient k lands at k, or at k − 1 with C0 last (htk_compat).
    const int64_t shift = htk_compat_ ? num_ceps_ - 1 : 0;
    for (int64_t k = 0; k < num_ceps_; ++k) {
      double acc;
      if (k == 0 && use_energy_) {
        acc = log_energy;
      } else {
        const double* d = dct_.data() + k * m;
        acc = 0.0;
        for (int64_t j = 0; j < m; ++j) acc += d[j] * mel[j];
        if (k == 0 && htk_compat_) acc *= std::numbers::sqrt2;
      }
      y[k == 0 ? shift : k - (htk_compat_ ? 1 : 0)] = static_cast<float>(acc);
    }
  }

  KaldiMelOptions mel_;
  int64_t num_ceps_;
  bool use_energy_, htk_compat_;
  std::vector<double> dct_;  // [num_ceps, num_mel_bins], liftered
  std::vector<float> log_mel_;
  Bands bands_;
};

}  // namespace

fp_stage_desc kaldi_mfcc_stage() { return sdk::stage<KaldiMfcc>(); }

}  // namespace featpipe::audio
