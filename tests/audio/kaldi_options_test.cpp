// The Kaldi options that torchaudio cannot check (parity_test.cpp checks
// the rest against torchaudio.compliance.kaldi): seeded dither, the
// spectrogram's raw FFT, and the refusals of VTLN and MFCC settings Kaldi
// refuses.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include <nlohmann/json.hpp>

#include "audio_support.hpp"

namespace featpipe::test {
namespace {

Tensor signal(int64_t n, double amp) {
  std::vector<float> x(static_cast<size_t>(n));
  for (int64_t k = 0; k < n; ++k) x[static_cast<size_t>(k)] = static_cast<float>(amp * std::sin(0.05 * static_cast<double>(k)));
  return tensor({n}, {"time"}, x, {{"sample_rate", 16000.0}});
}

Tensor fbank(const std::string& with, const Tensor& in) {
  return run_tensor_steps("  - use: audio.fbank\n    with: {" + with + "}\n", in, "time");
}

std::string error_of(const std::string& steps, const Tensor& in) {
  try {
    run_tensor_steps(steps, in, "time");
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

TEST(KaldiOptions, DitherIsReproducibleBySeed) {
  const Tensor x = signal(8000, 0.01);
  const Tensor plain = fbank("", x);
  EXPECT_EQ(fbank("dither: 0, seed: 5", x).data, plain.data) << "dither 0 must be off whatever the seed";
  const Tensor a = fbank("dither: 1, seed: 5", x);
  EXPECT_EQ(fbank("dither: 1, seed: 5", x).data, a.data) << "the same seed must give the same features";
  EXPECT_NE(fbank("dither: 1, seed: 6", x).data, a.data) << "another seed must give other noise";
  EXPECT_NE(a.data, plain.data) << "dither 1 must change the features";
}

// Kaldi adds dither · N(0, 1) to each 16-bit-scaled sample. On digital
// silence the raw log-energy after DC removal is then log(d² · χ²₃₉₉),
// whose mean is log(d²) + log(2) + ψ(399/2) ≈ log(399 d²) − 0.0025; its
// standard deviation over 98 frames is ~0.007.
TEST(KaldiOptions, DitherHasKaldisScale) {
  const Tensor silence = tensor({16000}, {"time"}, std::vector<float>(16000, 0.0f), {{"sample_rate", 16000.0}});
  for (double d : {1.0, 10.0}) {
    SCOPED_TRACE(d);
    const Tensor f = fbank("use_energy: true, energy_floor: 0, seed: 11, dither: " + std::to_string(d), silence);
    const int64_t frames = f.shape[0], cols = f.shape[1];
    ASSERT_EQ(frames, 98);
    double mean = 0;
    for (int64_t t = 0; t < frames; ++t) mean += f.data[static_cast<size_t>(t * cols)];
    mean /= static_cast<double>(frames);
    EXPECT_NEAR(mean, std::log(399.0 * d * d) - 0.0025, 0.03);
  }
}

TEST(KaldiOptions, KaldiRefusalsNameTheParameter) {
  const Tensor x = signal(4000, 0.3);
  // vtln_low must lie between low_freq and high_freq (MelBanks' check).
  std::string e = error_of("  - use: audio.fbank\n    with: {vtln_warp: 1.1, vtln_low: 9000}\n", x);
  EXPECT_NE(e.find("vtln_low"), std::string::npos) << e;
  e = error_of("  - use: audio.kaldi_mfcc\n    with: {vtln_warp: 0.9, vtln_high: 50}\n", x);
  EXPECT_NE(e.find("vtln_high"), std::string::npos) << e;
  // Without warping Kaldi ignores the VTLN cutoffs, and so does featpipe.
  EXPECT_EQ(error_of("  - use: audio.fbank\n    with: {vtln_low: 9000}\n", x), "");
  e = error_of("  - use: audio.kaldi_mfcc\n    with: {num_ceps: 24}\n", x);
  EXPECT_NE(e.find("num_ceps must be <= num_mel_bins"), std::string::npos) << e;
}

// With use_energy and htk_compat, Kaldi's MFCC is the same row rotated: C0
// (the energy) moves from first to last, nothing else changes.
TEST(KaldiOptions, HtkCompatMovesTheEnergyLast) {
  const Tensor x = signal(4000, 0.3);
  const Tensor a = run_tensor_steps("  - use: audio.kaldi_mfcc\n", x, "time");
  const Tensor b = run_tensor_steps("  - use: audio.kaldi_mfcc\n    with: {htk_compat: true}\n", x, "time");
  ASSERT_EQ(a.shape, b.shape);
  const int64_t cols = a.shape[1];
  for (int64_t t = 0; t < a.shape[0]; ++t)
    for (int64_t k = 0; k < cols; ++k)
      ASSERT_EQ(b.data[static_cast<size_t>(t * cols + (k + cols - 1) % cols)], a.data[static_cast<size_t>(t * cols + k)]);
}

// return_raw_fft: Kaldi's packed layout [re 0, re N/2, re 1, im 1, ...] of
// the forward DFT Σ x[n] e^{−2πimn/N} (matrix-functions.h). Its power is
// the log spectrogram that parity_test.cpp checks against torchaudio, and
// a sine at bin 8 (no window, no pre-emphasis, a 512-sample frame) lands
// on −i·A·N/2 there.
TEST(KaldiOptions, RawFftIsKaldisPackedLayout) {
  const Tensor x = signal(4000, 0.3);
  const Tensor raw = run_tensor_steps("  - use: audio.kaldi_spectrogram\n    with: {return_raw_fft: true}\n", x, "time");
  const Tensor logp = run_tensor_steps("  - use: audio.kaldi_spectrogram\n", x, "time");
  ASSERT_EQ(raw.shape, (std::vector<int64_t>{logp.shape[0], 512}));
  EXPECT_EQ(raw.axes.back(), "fft");
  const float eps = std::numeric_limits<float>::epsilon();
  for (int64_t t = 0; t < raw.shape[0]; ++t) {
    const float* r = raw.data.data() + t * 512;
    const float* l = logp.data.data() + t * 257;
    for (int64_t k = 1; k < 256; ++k)
      ASSERT_NEAR(std::log(std::max(r[2 * k] * r[2 * k] + r[2 * k + 1] * r[2 * k + 1], eps)), l[k], 1e-5) << t << " " << k;
    ASSERT_NEAR(std::log(std::max(r[1] * r[1], eps)), l[256], 1e-5) << "Nyquist, frame " << t;
  }
  std::vector<float> s(512);
  for (size_t n = 0; n < s.size(); ++n) s[n] = static_cast<float>(0.5 * std::sin(2.0 * M_PI * 8.0 * static_cast<double>(n) / 512.0));
  const Tensor one = run_tensor_steps(
      "  - use: audio.kaldi_spectrogram\n    with: {return_raw_fft: true, frame_length: 32, window_type: rectangular, "
      "preemphasis_coefficient: 0, remove_dc_offset: false}\n",
      tensor({512}, {"time"}, s, {{"sample_rate", 16000.0}}), "time");
  ASSERT_EQ(one.shape, (std::vector<int64_t>{1, 512}));
  const double want = -0.5 * 32768.0 * 256.0;
  EXPECT_NEAR(one.data[17], want, 1e-3 * std::abs(want)) << "im of bin 8";
  EXPECT_NEAR(one.data[16], 0.0, 1e-3 * std::abs(want)) << "re of bin 8";
}

// Kaldi's defaults, from its option structs (feature-window.h,
// mel-computations.h, feature-fbank.h, feature-mfcc.h,
// feature-spectrogram.h) and compute-*-feats' --vtln-warp.
const nlohmann::json kFrameDefaults = {
    {"frame_length", 25.0}, {"frame_shift", 10.0}, {"dither", 1.0}, {"preemphasis_coefficient", 0.97},
    {"remove_dc_offset", true}, {"window_type", "povey"}, {"round_to_power_of_two", true}, {"blackman_coeff", 0.42},
    {"snip_edges", true}};
const nlohmann::json kMelDefaults = {{"num_mel_bins", 23}, {"low_freq", 20.0}, {"high_freq", 0.0},
                                     {"vtln_low", 100.0}, {"vtln_high", -500.0}, {"vtln_warp", 1.0}};

nlohmann::json kaldi_defaults(const std::string& stage) {
  nlohmann::json d = kFrameDefaults;
  if (stage != "audio.kaldi_spectrogram") d.update(kMelDefaults);
  if (stage == "audio.fbank")
    d.update({{"use_energy", false}, {"energy_floor", 0.0}, {"raw_energy", true}, {"htk_compat", false},
              {"use_log_fbank", true}, {"use_power", true}});
  if (stage == "audio.kaldi_mfcc")
    d.update({{"num_ceps", 13}, {"use_energy", true}, {"energy_floor", 0.0}, {"raw_energy", true},
              {"cepstral_lifter", 22.0}, {"htk_compat", false}});
  if (stage == "audio.kaldi_spectrogram")
    d.update({{"energy_floor", 0.0}, {"raw_energy", true}, {"return_raw_fft", false}});
  return d;
}

nlohmann::json params_of(const Pipeline& p, const std::string& stage) {
  for (const StepInfo& s : p.steps())
    if (s.use == stage) return nlohmann::json::parse(s.params_json);
  ADD_FAILURE() << "no step " << stage;
  return {};
}

// Every Kaldi option of the stage is there; the values differ from Kaldi's
// only where `differs` says (featpipe-only options: `seed`).
void expect_kaldi_options(const nlohmann::json& got, const std::string& stage, const nlohmann::json& differs) {
  SCOPED_TRACE(stage);
  const nlohmann::json want = kaldi_defaults(stage);
  for (const auto& [key, value] : want.items()) {
    ASSERT_TRUE(got.contains(key)) << "Kaldi's option " << key << " is missing";
    if (differs.contains(key))
      EXPECT_EQ(got[key], differs[key]) << key;
    else
      EXPECT_EQ(got[key], value) << key << " differs from Kaldi's default";
  }
  for (const auto& [key, value] : got.items())
    EXPECT_TRUE(want.contains(key) || key == "seed") << key << " is not a Kaldi option";
}

// The stages' own defaults: Kaldi's but dither 0 and energy_floor 1
// (torchaudio's), documented on each parameter.
TEST(KaldiOptions, StagesHaveKaldisOptionsAndDefaults) {
  for (const char* stage : {"audio.fbank", "audio.kaldi_mfcc", "audio.kaldi_spectrogram"}) {
    LoadOptions opts;
    TensorSpec in;
    in.axes = {"time"};
    in.shape = {-1};
    in.stream_axis = 0;
    in.attrs = {{"sample_rate", 16000.0}};
    opts.input = in;
    const auto p = Pipeline::parse(std::string("featpipe: 1\nname: k\nstages:\n  - use: ") + stage + "\n", "k.yaml",
                                   source_dir().string(), opts);
    expect_kaldi_options(params_of(*p, stage), stage, {{"dither", 0.0}, {"energy_floor", 1.0}});
  }
}

// The shipped kaldi-fbank.yaml is compute-fbank-feats --num-mel-bins=80
// --dither=0: every other option at Kaldi's default.
TEST(KaldiOptions, KaldiFbankPipelineIsComputeFbankFeatsDefaults) {
  const auto p = Pipeline::load((source_dir() / "pipelines" / "kaldi-fbank.yaml").string());
  expect_kaldi_options(params_of(*p, "audio.fbank"), "audio.fbank", {{"num_mel_bins", 80}, {"dither", 0.0}});
}

// And kaldi-mfcc.yaml is compute-mfcc-feats --dither=0.
TEST(KaldiOptions, KaldiMfccPipelineIsComputeMfccFeatsDefaults) {
  const auto p = Pipeline::load((source_dir() / "pipelines" / "kaldi-mfcc.yaml").string());
  expect_kaldi_options(params_of(*p, "audio.kaldi_mfcc"), "audio.kaldi_mfcc", {{"dither", 0.0}});
}

}  // namespace
}  // namespace featpipe::test
