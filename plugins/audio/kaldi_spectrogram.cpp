// audio.kaldi_spectrogram — Kaldi's log power spectrogram
// (compute-spectrogram-feats, SpectrogramOptions with Kaldi's defaults),
// ≡ torchaudio.compliance.kaldi.spectrogram(32768 · x, ...). torchaudio's
// Spectrogram (power, no log) is audio.stft.
//
//   - use: audio.kaldi_spectrogram
//
// Input [..., time] in [-1, 1] with attribute sample_rate, output
// [..., frame, freq] (padded/2 + 1 bins: 257 at 16 kHz). Frames as
// kaldi_frontend.hpp; each bin log(max(|X|², float32 epsilon)), and bin 0
// (DC) replaced by the frame's log-energy, as Kaldi does. return_raw_fft:
// [..., frame, fft] (padded values), the FFT in Kaldi's packed layout, as
// SpectrogramComputer returns it. Streams.
#include "kaldi_stage.hpp"
#include "stages.hpp"

#include <algorithm>
#include <limits>

namespace featpipe::audio {
namespace {

class KaldiSpectrogram final : public KaldiStage {
 public:
  static constexpr const char* kName = "audio.kaldi_spectrogram";
  static constexpr const char* kDoc =
      "Kaldi log power spectrogram, energy in bin 0 (compute-spectrogram-feats); "
      "≡ torchaudio.compliance.kaldi.spectrogram(32768·x, ...)";
  static constexpr const char* kExample = "- use: audio.kaldi_spectrogram\n  with: {frame_length: 25}";
  // SpectrogramOptions: Kaldi's defaults, but energy_floor (see its doc).
  static constexpr std::array<fp_param_desc, 3> kOwnParams = {
      sdk::Param::Float("energy_floor", "1.0").range(0, 1e30).doc(kEnergyFloorDoc),
      sdk::Param::Bool("raw_energy", "true").doc("energy (bin 0) before pre-emphasis and window"),
      sdk::Param::Bool("return_raw_fft", "false")
          .doc("the FFT itself, N values per frame in Kaldi's packed layout (re 0, re N/2, re 1, im 1, ...), "
               "no log, no energy"),
  };
  static constexpr auto kParams = join(kFrameParams, kOwnParams);

  explicit KaldiSpectrogram(const sdk::Params& p)
      : KaldiStage(kName, p.b("return_raw_fft") ? "fft" : "freq", frontend(p)), raw_fft_(p.b("return_raw_fft")) {}

 private:
  static KaldiFrontend frontend(const sdk::Params& p) {
    using E = KaldiFrontend::Energy;
    if (p.b("return_raw_fft"))
      return KaldiFrontend(KaldiFrameOptions::from(p), E::none, 0.0, KaldiFrontend::Spectrum::packed_fft);
    return KaldiFrontend(KaldiFrameOptions::from(p), p.b("raw_energy") ? E::raw : E::windowed, p.f("energy_floor"));
  }

  int64_t width() const override { return fe_.built() ? fe_.values() : -1; }

  void row(const float* spectrum, double log_energy, float* y) override {
    if (raw_fft_) {
      std::copy(spectrum, spectrum + fe_.values(), y);
      return;
    }
    constexpr float kEps = std::numeric_limits<float>::epsilon();  // Kaldi's log floor
    y[0] = static_cast<float>(log_energy);
    for (int64_t k = 1; k < fe_.bins(); ++k) y[k] = std::log(std::max(spectrum[k], kEps));
  }

  bool raw_fft_;
};

}  // namespace

fp_stage_desc kaldi_spectrogram_stage() { return sdk::stage<KaldiSpectrogram>(); }

}  // namespace featpipe::audio
