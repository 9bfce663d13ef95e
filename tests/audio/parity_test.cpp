// Agreement with torchaudio (spec §7): every stage on synthetic signals
// (tone, chirp, noise, silence, clipped) and a real recording, against the
// float64 references made by make_golden.py — the committed goldens, and
// a fresh recompute when torchaudio is importable. Prints one
// "PARITY signal stage worst-error tolerance" line per comparison.
#include <gtest/gtest.h>

#include <cmath>
#include <iostream>

#include "audio_support.hpp"

namespace featpipe::test {
namespace {

const std::string kDecode = "  - use: audio.decode\n";
const std::string kStft = "  - use: audio.stft\n    with: {n_fft: 512, win_length: 400, hop_length: 160}\n";
const std::string kMel = "  - use: audio.mel\n    with: {n_mels: 80}\n";

// The featpipe steps that make each golden stage (make_golden.py's doc).
std::string steps_for(const std::string& stage) {
  if (stage == "stft") return kDecode + kStft;
  if (stage == "mel") return kDecode + kStft + kMel;
  if (stage == "mel_slaney")
    return kDecode + kStft + "  - use: audio.mel\n    with: {n_mels: 40, mel_scale: slaney, norm: slaney}\n";
  if (stage == "db") return kDecode + kStft + kMel + "  - use: audio.db\n    with: {top_db: 80}\n";
  if (stage == "logmel") return kDecode + kStft + kMel + "  - use: math.log\n    with: {offset: 1.0e-6}\n";
  if (stage == "mfcc")
    return kDecode + kStft + kMel + "  - use: audio.db\n    with: {top_db: 80}\n  - use: audio.mfcc\n    with: {n_mfcc: 13}\n";
  if (stage == "fbank") return kDecode + "  - use: audio.fbank\n    with: {num_mel_bins: 80}\n";
  if (stage == "fbank_nosnip")
    return kDecode +
           "  - use: audio.fbank\n    with: {num_mel_bins: 40, snip_edges: false, use_energy: true, window_type: hamming}\n";
  if (stage == "preemphasis") return kDecode + "  - use: audio.preemphasis\n";
  const std::string mag = "  - use: audio.stft\n    with: {n_fft: 400, win_length: 300, hop_length: 100, window: hamming, "
                          "power: 1, pad_mode: constant}\n";
  if (stage == "stft_hamming_mag") return kDecode + mag;
  if (stage == "db_magnitude") return kDecode + mag + "  - use: audio.db\n    with: {stype: magnitude}\n";
  if (stage == "stft_blackman_nocenter")
    return kDecode + "  - use: audio.stft\n    with: {n_fft: 256, hop_length: 64, window: blackman, center: false}\n";
  if (stage == "stft_povey")
    return kDecode + "  - use: audio.stft\n    with: {n_fft: 512, win_length: 400, hop_length: 160, window: povey}\n";
  if (stage == "fbank_options")
    return kDecode +
           "  - use: audio.fbank\n    with: {num_mel_bins: 30, window_type: blackman, round_to_power_of_two: false, "
           "raw_energy: false, use_energy: true, htk_compat: true, remove_dc_offset: false, preemphasis_coefficient: 0, "
           "low_freq: 100, high_freq: -500, use_power: false, energy_floor: 0}\n";
  if (stage == "fbank_linear")
    return kDecode +
           "  - use: audio.fbank\n    with: {use_log_fbank: false, window_type: hanning, snip_edges: false}\n";
  // Kaldi's programs (make_golden.py's kaldi_stages).
  if (stage == "kaldi_mfcc") return kDecode + "  - use: audio.kaldi_mfcc\n";
  if (stage == "kaldi_mfcc_htk")
    return kDecode +
           "  - use: audio.kaldi_mfcc\n    with: {htk_compat: true, use_energy: false, num_mel_bins: 40, num_ceps: 20, "
           "cepstral_lifter: 30, window_type: hamming, snip_edges: false}\n";
  if (stage == "kaldi_mfcc_energy")
    return kDecode +
           "  - use: audio.kaldi_mfcc\n    with: {htk_compat: true, raw_energy: false, energy_floor: 0, "
           "window_type: sine, low_freq: 100, high_freq: -400}\n";
  for (const auto& [name, warp] : {std::pair{"fbank_vtln09", "0.9"}, {"fbank_vtln10", "1.0"}, {"fbank_vtln11", "1.1"}})
    if (stage == name)
      return kDecode + "  - use: audio.fbank\n    with: {num_mel_bins: 40, vtln_warp: " + warp +
             ", vtln_low: 200, vtln_high: -800}\n";
  if (stage == "kaldi_mfcc_vtln") return kDecode + "  - use: audio.kaldi_mfcc\n    with: {vtln_warp: 0.95}\n";
  if (stage == "fbank_sine") return kDecode + "  - use: audio.fbank\n    with: {num_mel_bins: 40, window_type: sine}\n";
  if (stage == "kaldi_spectrogram") return kDecode + "  - use: audio.kaldi_spectrogram\n";
  if (stage == "kaldi_spectrogram_options")
    return kDecode +
           "  - use: audio.kaldi_spectrogram\n    with: {raw_energy: false, energy_floor: 0, window_type: sine, "
           "frame_length: 20, round_to_power_of_two: false, snip_edges: false}\n";
  if (stage == "deltas") return "  - use: audio.deltas\n    with: {order: 2, win_length: 5}\n";
  if (stage == "cmvn") return "  - use: norm.cmvn\n";
  if (stage == "cmvn_sliding") return "  - use: norm.cmvn\n    with: {window: 50, min_window: 20, center: false}\n";
  if (stage == "cmvn_center") return "  - use: norm.cmvn\n    with: {window: 40, center: true}\n";
  ADD_FAILURE() << "no steps for stage " << stage;
  return {};
}

fs::path input_of(const std::string& signal) {
  if (signal == "stereo") return source_dir() / "samples" / "audio" / "stereo_48k.flac";
  if (signal == "speech") return source_dir() / "samples" / "audio" / "front_center_16k.wav";
  return source_dir() / "tests" / "audio" / "data" / (signal + ".wav");
}

Tensor from_golden(const npy::Array& a, int64_t cols, const std::string& feature_axis) {
  const int64_t frames = a.shape[0], all = a.shape[1];
  std::vector<float> d(static_cast<size_t>(frames * cols));
  for (int64_t i = 0; i < frames; ++i)
    for (int64_t j = 0; j < cols; ++j) d[static_cast<size_t>(i * cols + j)] = a.data[static_cast<size_t>(i * all + j)];
  return tensor({frames, cols}, {"frame", feature_axis}, std::move(d));
}

Tensor ours(const fs::path& dir, const std::string& signal, const std::string& stage) {
  const std::string steps = steps_for(stage);
  if (stage == "deltas") {
    npy::Array m = npy::read((dir / signal / "mfcc.npy").string());
    return run_tensor_steps(steps, from_golden(m, m.shape[1], "mfcc"), "frame");
  }
  if (stage.rfind("cmvn", 0) == 0) {
    npy::Array f = npy::read((dir / signal / "fbank.npy").string());
    return run_tensor_steps(steps, from_golden(f, 20, "mel"), "frame");
  }
  if (signal == "stereo")  // every channel at the file's rate: [channel, frame, ...]
    return run_file_steps("  - use: audio.decode\n    with: {mono: false}\n" + steps.substr(kDecode.size()),
                          input_of(signal));
  return run_file_steps(steps, input_of(signal));
}

// Compares every (signal, stage) listed in dir/tolerances.txt.
void compare_dir(const fs::path& dir, const std::string& label) {
  const auto tols = read_tolerances(dir);
  ASSERT_GT(tols.size(), 40u);
  for (const auto& [key, tol] : tols) {
    const std::string signal = key.substr(0, key.find(' ')), stage = key.substr(key.find(' ') + 1);
    if (signal == "resample") continue;
    SCOPED_TRACE(key);
    const npy::Array ref = npy::read((dir / signal / (stage + ".npy")).string());
    Tensor got;
    ASSERT_NO_THROW(got = ours(dir, signal, stage));
    ASSERT_EQ(got.shape, ref.shape) << "frame count or feature size differs from torchaudio";
    const double err = max_abs_diff(got.data, ref.data);
    std::cout << "PARITY " << label << " " << signal << " " << stage << " " << err << " " << tol.tol << "\n";
    EXPECT_LE(err, tol.tol) << "max |ours - torchaudio| for " << key;
  }
}

// Mel bands (80, HTK, 0..8 kHz) centred below 7 kHz.
std::vector<int> low_bands() {
  auto mel = [](double f) { return 2595.0 * std::log10(1.0 + f / 700.0); };
  std::vector<int> out;
  for (int b = 0; b < 80; ++b) {
    const double m = mel(8000.0) * (b + 1) / 81.0;
    if (700.0 * (std::pow(10.0, m / 2595.0) - 1.0) < 7000.0) out.push_back(b);
  }
  return out;
}

void compare_resampled(const fs::path& dir, const std::string& label) {
  const auto tols = read_tolerances(dir);
  const std::vector<int> bands = low_bands();
  const std::map<std::string, fs::path> files = {
      {"speech_8k", source_dir() / "samples" / "audio" / "speech_8k.wav"},
      {"stereo_48k", source_dir() / "samples" / "audio" / "stereo_48k.flac"}};
  for (const auto& [name, path] : files) {
    SCOPED_TRACE(name);
    ASSERT_TRUE(tols.count("resample " + name));
    const double D = tols.at("resample " + name).tol;
    const npy::Array ref = npy::read((dir / "resample" / ("ref_" + name + ".npy")).string());
    const Tensor got = run_file_steps("  - use: audio.decode\n    with: {sample_rate: 16000}\n" + kStft + kMel +
                                          "  - use: math.log\n    with: {offset: 1.0e-6}\n",
                                      path);
    ASSERT_EQ(got.shape.size(), 2u);
    EXPECT_LE(std::abs(got.shape[0] - ref.shape[0]), 1) << "frame counts differ by more than one";
    const int64_t frames = std::min(got.shape[0], ref.shape[0]) - 1;
    double err = 0;
    for (int64_t t = 0; t < frames; ++t)
      for (int b : bands) err = std::max<double>(err, std::abs(got.data[t * 80 + b] - ref.data[t * 80 + b]));
    std::cout << "PARITY " << label << " resample " << name << " " << err << " " << 2 * D << " (D=" << D << ")\n";
    EXPECT_LE(err, 2 * D) << "resampled log-mel further from torchaudio's than 2x (torchaudio vs sox)";
    EXPECT_EQ(got.attrs.at("sample_rate"), 16000.0);
  }
}

TEST(AudioParity, CommittedGoldens) { compare_dir(golden_dir(), "golden"); }

TEST(AudioParity, ResampledLogMelCommitted) { compare_resampled(golden_dir(), "golden"); }

// Silence: the spectrogram and mel power are exactly zero (their goldens are
// left out of the committed set), dB sits at the amin floor, log-mel at
// log(offset), fbank at log(float32 eps).
TEST(AudioParity, SilenceIsExactlyZero) {
  const fs::path f = input_of("silence");
  for (const char* stage : {"stft", "mel"}) {
    const Tensor t = run_file_steps(steps_for(stage), f);
    EXPECT_EQ(max_abs(t.data), 0.0) << stage;
  }
  const Tensor db = run_file_steps(steps_for("db"), f);
  for (float v : db.data) ASSERT_FLOAT_EQ(v, -100.0f);
  const Tensor fb = run_file_steps(steps_for("fbank"), f);
  for (float v : fb.data) ASSERT_NEAR(v, std::log(std::numeric_limits<float>::epsilon()), 1e-6);
}

TEST(AudioParity, LiveTorchaudio) {
  if (!python_has("numpy scipy torch torchaudio")) GTEST_SKIP() << "torchaudio not importable";
  if (run_shell("command -v sox").exit_code != 0) GTEST_SKIP() << "sox not installed";
  TempDir tmp;
  const auto r = run_shell(quote(python()) + " " + quote((source_dir() / "tests" / "audio" / "make_golden.py").string()) +
                           " --full --out " + quote(tmp.path().string()));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  compare_dir(tmp.path(), "live");
  compare_resampled(tmp.path(), "live");
  // libsoxr (very high quality) against the sox command line's `rate -v`:
  // the same algorithm, so the samples agree closely (torchaudio's differ
  // from both by ~5e-3 on the 8 kHz speech).
  for (const auto& [name, file] : {std::pair<std::string, std::string>{"speech_8k", "speech_8k.wav"},
                                   std::pair<std::string, std::string>{"stereo_48k", "stereo_48k.flac"}}) {
    SCOPED_TRACE(name);
    const npy::Array sox = npy::read((tmp / "resample" / ("sox_" + name + ".npy")).string());
    const fs::path src = source_dir() / "samples" / "audio" / file;
    const Tensor got = run_file_steps("  - use: audio.decode\n    with: {sample_rate: 16000}\n", src);
    const size_t n = std::min(got.data.size(), sox.data.size());
    EXPECT_LE(std::abs(static_cast<double>(got.data.size()) - static_cast<double>(sox.data.size())), 1.0);
    double err = 0;
    for (size_t k = 0; k < n; ++k) err = std::max<double>(err, std::abs(got.data[k] - sox.data[k]));
    std::cout << "PARITY live resample-vs-sox " << name << " " << err << " 1e-4\n";
    EXPECT_LE(err, 1e-4);
  }
}

}  // namespace
}  // namespace featpipe::test
