// Kaldi's frame extraction (FrameExtractionOptions + ProcessWindow + the
// power spectrum), shared by the stages that equal Kaldi's programs:
// audio.fbank (compute-fbank-feats), audio.kaldi_mfcc (compute-mfcc-feats)
// and audio.kaldi_spectrogram (compute-spectrogram-feats). Each stage lists
// the shared parameters (kFrameParams, kMelParams) in its own schema, under
// Kaldi's option names in snake_case, and turns one frame's spectrum and
// log-energy into one output row.
//
// Per frame, in Kaldi's order: scale by 32768 (Kaldi reads 16-bit samples
// as integers), dither, DC removal, raw log-energy, pre-emphasis
// (x[t] − c·x[t−1], x[−1] = x[0]), window, zero-pad, FFT, |X|^2.
#pragma once

#include "dsp.hpp"
#include "windows.hpp"

#include <array>
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

namespace featpipe::audio {

// Joins schema tables: a stage's kParams = join(kFrameParams, its own).
template <size_t A, size_t B>
constexpr std::array<fp_param_desc, A + B> join(const std::array<fp_param_desc, A>& a,
                                                const std::array<fp_param_desc, B>& b) {
  std::array<fp_param_desc, A + B> out{};
  for (size_t k = 0; k < A; ++k) out[k] = a[k];
  for (size_t k = 0; k < B; ++k) out[A + k] = b[k];
  return out;
}

// FrameExtractionOptions (Kaldi's defaults except dither, see below).
// Kaldi's --sample-frequency is the input's sample_rate attribute
// (audio.decode {sample_rate: N} resamples, as Kaldi's allow_downsample
// would not).
inline constexpr std::array<fp_param_desc, 10> kFrameParams = {
    sdk::Param::Float("frame_length", "25.0").range(0.01, 1e6).unit("ms").doc("frame length"),
    sdk::Param::Float("frame_shift", "10.0").range(0.01, 1e6).unit("ms").doc("frame shift"),
    sdk::Param::Choice("window_type", "povey", kWindowChoices)
        .doc("window, as Kaldi's (symmetric; hanning = hann, rect = rectangular; sine: sin(πn/(N−1)))"),
    sdk::Param::Float("blackman_coeff", "0.42").doc("coefficient of the blackman window"),
    sdk::Param::Float("preemphasis_coefficient", "0.97").range(0, 1).doc("pre-emphasis per frame"),
    sdk::Param::Bool("remove_dc_offset", "true").doc("subtract each frame's mean"),
    sdk::Param::Bool("snip_edges", "true").doc("true: only frames that fit; false: mirror the ends"),
    sdk::Param::Bool("round_to_power_of_two", "true").doc("zero-pad frames to a power of two"),
    sdk::Param::Float("dither", "0.0").range(0, 1e9)
        .doc("Gaussian noise of this standard deviation (in 16-bit units) added to each sample; 0: off "
             "(Kaldi's default is 1: featpipe's features are reproducible by default, and with `seed` when on)"),
    sdk::Param::Int("seed", "0").range(0, 4294967295.0)
        .doc("seed of the dither noise; it restarts for each input, so a file's features do not depend on "
             "its order or worker"),
};

// MelBanksOptions (Kaldi's defaults) and compute-*-feats --vtln-warp.
inline constexpr std::array<fp_param_desc, 6> kMelParams = {
    sdk::Param::Int("num_mel_bins", "23").range(4, 65536).doc("number of triangular mel bins (> 3)"),
    sdk::Param::Float("low_freq", "20.0").range(0, 1e7).unit("Hz").doc("low cutoff of the mel bins"),
    sdk::Param::Float("high_freq", "0.0").range(-1e7, 1e7).unit("Hz")
        .doc("high cutoff; <= 0: offset from the Nyquist frequency"),
    sdk::Param::Float("vtln_low", "100.0").range(0, 1e7).unit("Hz")
        .doc("low inflection point of the piecewise linear VTLN warping"),
    sdk::Param::Float("vtln_high", "-500.0").range(-1e7, 1e7).unit("Hz")
        .doc("high inflection point of the VTLN warping; < 0: offset from the Nyquist frequency"),
    sdk::Param::Float("vtln_warp", "1.0").range(0.5, 2.0).doc("VTLN warp factor (1: no warping)"),
};

// energy_floor's default is torchaudio's 1.0, not Kaldi's 0.0: Kaldi
// dithers by default, so its frames never have zero energy; without dither
// (featpipe's default) Kaldi's docs advise a floor of 1 or 0.1. Only frames
// of energy < 1 (16-bit digital silence) differ; set 0 for Kaldi's value.
inline constexpr const char* kEnergyFloorDoc =
    "floor on the energy (not log); 0: none (Kaldi's default is 0 with dither 1; featpipe's, as torchaudio's, 1: "
    "its dither is off by default)";

struct KaldiFrameOptions {
  double frame_ms, shift_ms;
  std::string window_type;
  double blackman_coeff;
  float preemph;
  bool remove_dc, snip, round_pow2;
  double dither;
  uint32_t seed;
  static KaldiFrameOptions from(const sdk::Params& p);
};

struct KaldiMelOptions {
  int64_t num_bins;
  double low_freq, high_freq, vtln_low, vtln_high, vtln_warp;
  static KaldiMelOptions from(const sdk::Params& p);
};

// Kaldi's MelBanks (with MelBanks::VtlnWarpFreq when vtln_warp != 1) as
// [num_bins, padded/2 + 1] (Nyquist column zero), in double.
std::vector<double> kaldi_mel_banks(const KaldiMelOptions& o, int64_t padded, double sample_freq);

// Kaldi's window of `length` samples (FeatureWindowFunction).
std::vector<double> kaldi_window(const std::string& type, int64_t length, double blackman_coeff);

// Frames one input (any number of channels) and hands each frame's power
// spectrum (padded/2 + 1 bins) and log-energy to the stage, incrementally:
// any chunking of the input gives the same frames, bit for bit.
class KaldiFrontend {
 public:
  // energy: none (not needed), raw (before pre-emphasis and window) or
  // windowed; floor: the energy floor (not log; 0: none). spectrum: |X|²
  // or |X| per bin (padded/2 + 1 values), or the FFT itself in Kaldi's
  // packed layout (padded values: re 0, re N/2, then re k, im k).
  enum class Energy { none, raw, windowed };
  enum class Spectrum { power, magnitude, packed_fft };
  KaldiFrontend(const KaldiFrameOptions& o, Energy energy, double energy_floor, Spectrum spectrum = Spectrum::power)
      : o_(o), energy_(energy), energy_floor_(energy_floor), spectrum_(spectrum) {}

  // Builds the window, FFT and framing for a sample rate (idempotent).
  void build(double rate);
  bool built() const { return rate_ > 0; }
  int64_t size() const { return size_; }      // samples per frame
  int64_t shift() const { return shift_; }    // samples between frames
  int64_t padded() const { return padded_; }  // FFT size
  int64_t bins() const { return padded_ / 2 + 1; }
  int64_t values() const { return spectrum_ == Spectrum::packed_fft ? padded_ : bins(); }  // per frame
  int64_t total_frames(int64_t n) const;      // frames of an input of n samples

  void reset();  // a new input: framers and dither restart

  // on_frame(channel, const float* spectrum (values()), double log_energy). Returns
  // the frames made per channel.
  template <class F>
  int64_t push(const float* x, int64_t channels, int64_t n, F&& on_frame) {
    ensure_channels(channels);
    int64_t frames = 0;
    for (int64_t c = 0; c < channels; ++c)
      frames = framers_[static_cast<size_t>(c)].push(x + c * n, n, [&](const float* fr) {
        const double e = frame(fr, static_cast<size_t>(c));
        on_frame(c, power_.data(), e);
      });
    return frames;
  }
  template <class F>
  int64_t flush(F&& on_frame) {
    int64_t frames = 0;
    for (size_t c = 0; c < framers_.size(); ++c)
      frames = framers_[c].flush([&](const float* fr) {
        const double e = frame(fr, c);
        on_frame(static_cast<int64_t>(c), power_.data(), e);
      });
    return frames;
  }
  bool empty() const { return framers_.empty(); }

 private:
  void ensure_channels(int64_t channels);
  double frame(const float* x, size_t channel);  // fills power_, returns the log-energy
  double log_energy(const float* x, int64_t n) const;
  float gauss(size_t channel);

  KaldiFrameOptions o_;
  Energy energy_;
  double energy_floor_;
  Spectrum spectrum_;
  double rate_ = -1;
  int64_t size_ = 0, shift_ = 0, padded_ = 0;
  std::vector<float> window_, power_;
  std::unique_ptr<RealFft> fft_;
  FramerConfig framer_cfg_;
  std::vector<Framer> framers_;
  std::vector<std::mt19937> rng_;        // dither noise, one stream per channel
  std::vector<float> spare_;             // Box–Muller's second value, per channel
  std::vector<char> has_spare_;
};

}  // namespace featpipe::audio
