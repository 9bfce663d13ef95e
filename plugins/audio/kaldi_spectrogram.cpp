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
// (DC) replaced by the frame's log-energy, as Kaldi does. Streams.
#include "kaldi_stage.hpp"
#include "stages.hpp"

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
  static constexpr std::array<fp_param_desc, 2> kOwnParams = {
      sdk::Param::Float("energy_floor", "1.0").range(0, 1e30).doc(FEATPIPE_KALDI_ENERGY_FLOOR_DOC),
      sdk::Param::Bool("raw_energy", "true").doc("energy (bin 0) before pre-emphasis and window"),
  };
  static constexpr auto kParams = join(kFrameParams, kOwnParams);

  explicit KaldiSpectrogram(const sdk::Params& p)
      : KaldiStage(kName, "freq",
                   KaldiFrontend(KaldiFrameOptions::from(p),
                                 p.b("raw_energy") ? KaldiFrontend::Energy::raw : KaldiFrontend::Energy::windowed,
                                 p.f("energy_floor"))) {}

 private:
  int64_t width() const override { return fe_.built() ? fe_.bins() : -1; }

  void row(const float* spectrum, double log_energy, float* y) override {
    constexpr float kEps = std::numeric_limits<float>::epsilon();  // Kaldi's log floor
    y[0] = static_cast<float>(log_energy);
    for (int64_t k = 1; k < fe_.bins(); ++k) y[k] = std::log(std::max(spectrum[k], kEps));
  }
};

}  // namespace

fp_stage_desc kaldi_spectrogram_stage() { return sdk::stage<KaldiSpectrogram>(); }

}  // namespace featpipe::audio
