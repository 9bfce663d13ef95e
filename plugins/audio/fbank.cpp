// audio.fbank — Kaldi-compatible log mel filterbank (compute-fbank-feats),
// ≡ torchaudio.compliance.kaldi.fbank(32768 · x, ...).
//
//   - use: audio.fbank
//     with: {num_mel_bins: 80}
//
// Input [..., time] in [-1, 1] with attribute sample_rate. Output
// [..., frame, mel] (mel = num_mel_bins, + 1 energy column first with
// use_energy, last with htk_compat). Frames as kaldi_frontend.hpp; then
// mel banks (Kaldi's: 1127·ln(1 + f/700), excluding the Nyquist bin,
// VTLN-warped with vtln_warp), log with the float32 epsilon as floor
// (Kaldi's floor). snip_edges: frames that fit (1 + (n − len)/shift);
// false: (n + shift/2) / shift frames with the signal mirrored at both
// ends. Streams.
#include "../common/vector_log.hpp"
#include "kaldi_stage.hpp"
#include "stages.hpp"

#include <limits>

namespace featpipe::audio {
namespace {

class Fbank final : public KaldiStage {
 public:
  static constexpr const char* kName = "audio.fbank";
  static constexpr const char* kDoc =
      "Kaldi log mel filterbank (compute-fbank-feats); ≡ torchaudio.compliance.kaldi.fbank(32768·x, ...)";
  static constexpr const char* kExample = "- use: audio.fbank\n  with: {num_mel_bins: 80}";
  // FbankOptions: Kaldi's defaults, but energy_floor (see its doc).
  static constexpr std::array<fp_param_desc, 6> kOwnParams = {
      sdk::Param::Float("energy_floor", "1.0").range(0, 1e30).doc(kEnergyFloorDoc),
      sdk::Param::Bool("use_energy", "false").doc("add the log energy as the first column"),
      sdk::Param::Bool("raw_energy", "true").doc("energy before pre-emphasis and window"),
      sdk::Param::Bool("htk_compat", "false").doc("energy as the last column instead of the first"),
      sdk::Param::Bool("use_log_fbank", "true").doc("log of the mel energies"),
      sdk::Param::Bool("use_power", "true").doc("power spectrum (false: magnitude)"),
  };
  static constexpr auto kParams = join(join(kMelParams, kFrameParams), kOwnParams);

  explicit Fbank(const sdk::Params& p)
      : KaldiStage(kName, "mel", frontend(p)),
        mel_(KaldiMelOptions::from(p)),
        use_energy_(p.b("use_energy")),
        htk_compat_(p.b("htk_compat")),
        use_log_(p.b("use_log_fbank")) {}

 private:
  static KaldiFrontend frontend(const sdk::Params& p) {
    using E = KaldiFrontend::Energy;
    const E e = !p.b("use_energy") ? E::none : p.b("raw_energy") ? E::raw : E::windowed;
    return KaldiFrontend(KaldiFrameOptions::from(p), e, p.f("energy_floor"),
                         p.b("use_power") ? KaldiFrontend::Spectrum::power : KaldiFrontend::Spectrum::magnitude);
  }

  int64_t width() const override { return mel_.num_bins + (use_energy_ ? 1 : 0); }

  void build_tables(double rate) override {
    bands_.assign(kaldi_mel_banks(mel_, fe_.padded(), rate), mel_.num_bins, fe_.bins());
  }

  void row(const float* spectrum, double log_energy, float* y) override { rows(spectrum, &log_energy, 1, y); }

  bool batched() const override { return true; }

  void rows(const float* spectra, const double* log_energies, int64_t n, float* y) override {
    const int64_t bins = mel_.num_bins, w = width();
    bands_.apply_rows(spectra, y + (use_energy_ && !htk_compat_ ? 1 : 0), n, fe_.bins(), w);
    for (int64_t r = 0; r < n; ++r) {
      float* row = y + r * w;
      float* mel = row + (use_energy_ && !htk_compat_ ? 1 : 0);
      // Kaldi floors at the float epsilon and takes the log in float
      // (ApplyFloor, ApplyLog); here glibc's vector logf (within 4 ulp).
      if (use_log_) {
        for (int64_t b = 0; b < bins; ++b) mel[b] = std::max(mel[b], std::numeric_limits<float>::epsilon());
        plugins::log_inplace(mel, bins, 0.0f);
      }
      if (use_energy_) row[htk_compat_ ? bins : 0] = static_cast<float>(log_energies[r]);
    }
  }

  KaldiMelOptions mel_;
  bool use_energy_, htk_compat_, use_log_;
  Bands bands_;
};

}  // namespace

fp_stage_desc fbank_stage() { return sdk::stage<Fbank>(); }

}  // namespace featpipe::audio
