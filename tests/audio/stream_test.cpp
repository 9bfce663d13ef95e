// Chunk-size invariance (the batch path is one push + flush; a stream
// pushes chunks of any size) driven through the plugin's C ABI, gain
// invariance of per-frame L2-normalized mel power, and edge cases (too
// short, one frame, 8 kHz / 48 kHz rates through the stages).
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "audio_support.hpp"

namespace featpipe::test {
namespace {

npy::Array noise(std::vector<int64_t> shape, unsigned seed, float amp = 0.3f) {
  npy::Array a;
  a.shape = std::move(shape);
  int64_t n = 1;
  for (int64_t d : a.shape) n *= d;
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-amp, amp);
  a.data.resize(static_cast<size_t>(n));
  for (float& v : a.data) v = u(rng);
  return a;
}

sdk::Spec spec_of(const std::vector<std::pair<const char*, int64_t>>& axes, int stream, double rate = 16000) {
  sdk::Spec s;
  for (auto& [name, len] : axes) s.append(name, len);
  s.set_stream_axis(stream);
  s.set_attr("sample_rate", rate);
  return s;
}

struct Case {
  std::string stage;
  std::map<std::string, std::string> params;
};

// Every chunking gives the bits one push gives.
void expect_chunk_invariant(const Case& c, const npy::Array& in, const sdk::Spec& spec, int axis, int out_axis) {
  SCOPED_TRACE(c.stage);
  AbiStage whole(c.stage, c.params);
  whole.start(spec);
  const npy::Array ref = whole.run(in, axis, 0, out_axis);
  ASSERT_FALSE(ref.data.empty());
  for (int64_t chunk : {1, 3, 7, 64, 160, 1000}) {
    SCOPED_TRACE("chunk " + std::to_string(chunk));
    AbiStage st(c.stage, c.params);
    st.start(spec);
    const npy::Array got = st.run(in, axis, chunk, out_axis);
    ASSERT_EQ(got.shape, ref.shape);
    EXPECT_EQ(got.data, ref.data) << "max diff " << max_abs_diff(got.data, ref.data);
    // The same instance again (reset by start) gives the same result.
    st.start(spec);
    EXPECT_EQ(st.run(in, axis, chunk, out_axis).data, ref.data);
  }
}

TEST(AudioStream, StftChunkInvariant) {
  const npy::Array x = noise({5000}, 1);
  const sdk::Spec spec = spec_of({{"time", -1}}, 0);
  expect_chunk_invariant({"audio.stft", {{"n_fft", "512"}, {"win_length", "400"}, {"hop_length", "160"}}}, x, spec, 0, 0);
  expect_chunk_invariant({"audio.stft", {{"n_fft", "400"}, {"pad_mode", "constant"}, {"window", "hamming"}}}, x, spec, 0, 0);
  expect_chunk_invariant({"audio.stft", {{"n_fft", "256"}, {"center", "false"}, {"power", "1"}}}, x, spec, 0, 0);
  // Two channels: [channel, time] -> [channel, frame, freq].
  const npy::Array st = noise({2, 3000}, 2);
  expect_chunk_invariant({"audio.stft", {{"n_fft", "512"}, {"hop_length", "160"}}}, st,
                         spec_of({{"channel", 2}, {"time", -1}}, 1), 1, 1);
}

// Random lengths and random chunk sizes, every framing mode (torch center
// reflect/constant, no center, Kaldi snip true/false, hop longer than the
// frame): the frames equal one push's, or both fail alike.
TEST(AudioStream, FramingFuzz) {
  const std::vector<Case> cases = {
      {"audio.stft", {{"n_fft", "64"}, {"hop_length", "16"}}},
      {"audio.stft", {{"n_fft", "64"}, {"hop_length", "16"}, {"pad_mode", "constant"}}},
      {"audio.stft", {{"n_fft", "63"}, {"hop_length", "100"}}},
      {"audio.stft", {{"n_fft", "64"}, {"hop_length", "7"}, {"center", "false"}}},
      {"audio.fbank", {{"num_mel_bins", "10"}, {"frame_length", "4"}, {"frame_shift", "1"}}},
      {"audio.fbank", {{"num_mel_bins", "10"}, {"frame_length", "4"}, {"frame_shift", "1"}, {"snip_edges", "false"}}},
      {"audio.fbank", {{"num_mel_bins", "10"}, {"frame_length", "4"}, {"frame_shift", "5"}, {"snip_edges", "false"}}},
      {"audio.kaldi_mfcc", {{"num_mel_bins", "10"}, {"num_ceps", "5"}, {"frame_length", "4"}, {"frame_shift", "1"},
                            {"snip_edges", "false"}}},
      {"audio.kaldi_spectrogram", {{"frame_length", "4"}, {"frame_shift", "3"}}},
  };
  std::mt19937 rng(42);
  const sdk::Spec spec = spec_of({{"time", -1}}, 0);
  for (const Case& c : cases) {
    for (int trial = 0; trial < 30; ++trial) {
      const int64_t n = std::uniform_int_distribution<int64_t>(1, 400)(rng);
      const npy::Array x = noise({n}, static_cast<unsigned>(trial));
      SCOPED_TRACE(c.stage + " n=" + std::to_string(n));
      std::string err_one, err_chunked;
      npy::Array one, chunked;
      try {
        AbiStage st(c.stage, c.params);
        st.start(spec);
        one = st.run(x, 0, 0, 0);
      } catch (const std::exception& e) {
        err_one = e.what();
      }
      const int64_t chunk = std::uniform_int_distribution<int64_t>(1, 50)(rng);
      try {
        AbiStage st(c.stage, c.params);
        st.start(spec);
        chunked = st.run(x, 0, chunk, 0);
      } catch (const std::exception& e) {
        err_chunked = e.what();
      }
      EXPECT_EQ(err_one, err_chunked);
      EXPECT_EQ(one.shape, chunked.shape);
      EXPECT_EQ(one.data, chunked.data);
    }
  }
}

TEST(AudioStream, FbankChunkInvariant) {
  const npy::Array x = noise({6000}, 3);
  const sdk::Spec spec = spec_of({{"time", -1}}, 0);
  expect_chunk_invariant({"audio.fbank", {{"num_mel_bins", "40"}}}, x, spec, 0, 0);
  expect_chunk_invariant({"audio.fbank", {{"num_mel_bins", "40"}, {"snip_edges", "false"}, {"use_energy", "true"}}}, x,
                         spec, 0, 0);
}

// audio.kaldi_mfcc and audio.kaldi_spectrogram, VTLN, the sine window and
// seeded dither (its noise follows the frames, so chunking cannot move it;
// start() restarts it), on one and two channels.
TEST(AudioStream, KaldiStagesChunkInvariant) {
  const npy::Array x = noise({6000}, 3);
  const sdk::Spec spec = spec_of({{"time", -1}}, 0);
  expect_chunk_invariant({"audio.kaldi_mfcc", {}}, x, spec, 0, 0);
  expect_chunk_invariant({"audio.kaldi_mfcc", {{"htk_compat", "true"}, {"snip_edges", "false"}, {"vtln_warp", "0.9"}}},
                         x, spec, 0, 0);
  expect_chunk_invariant({"audio.kaldi_spectrogram", {}}, x, spec, 0, 0);
  expect_chunk_invariant({"audio.kaldi_spectrogram", {{"snip_edges", "false"}, {"window_type", "sine"}}}, x, spec, 0, 0);
  expect_chunk_invariant({"audio.kaldi_spectrogram", {{"return_raw_fft", "true"}}}, x, spec, 0, 0);
  expect_chunk_invariant({"audio.fbank", {{"dither", "1"}, {"seed", "7"}, {"use_energy", "true"}}}, x, spec, 0, 0);
  const npy::Array st = noise({2, 3000}, 2);
  const sdk::Spec spec2 = spec_of({{"channel", 2}, {"time", -1}}, 1);
  expect_chunk_invariant({"audio.kaldi_mfcc", {{"dither", "2"}, {"seed", "3"}}}, st, spec2, 1, 1);
  expect_chunk_invariant({"audio.kaldi_spectrogram", {}}, st, spec2, 1, 1);
}

TEST(AudioStream, PreemphasisChunkInvariant) {
  expect_chunk_invariant({"audio.preemphasis", {}}, noise({2, 2000}, 4), spec_of({{"channel", 2}, {"time", -1}}, 1), 1,
                         1);
}

TEST(AudioStream, DeltasChunkInvariant) {
  const npy::Array f = noise({300, 13}, 5, 10.0f);
  const sdk::Spec spec = spec_of({{"frame", -1}, {"mfcc", 13}}, 0);
  expect_chunk_invariant({"audio.deltas", {}}, f, spec, 0, 0);
  expect_chunk_invariant({"audio.deltas", {{"order", "3"}, {"win_length", "9"}, {"append", "false"}}}, f, spec, 0, 0);
}

TEST(AudioStream, SlidingCmvnChunkInvariant) {
  const npy::Array f = noise({400, 20}, 6, 5.0f);
  const sdk::Spec spec = spec_of({{"frame", -1}, {"mel", 20}}, 0);
  expect_chunk_invariant({"norm.cmvn", {{"window", "50"}, {"min_window", "20"}}}, f, spec, 0, 0);
  expect_chunk_invariant({"norm.cmvn", {{"window", "41"}, {"center", "true"}}}, f, spec, 0, 0);
  expect_chunk_invariant({"norm.cmvn", {{"window", "600"}, {"norm_vars", "false"}}}, f, spec, 0, 0);
}

TEST(AudioStream, DecodePushResampledInChunksMatchesOnePush) {
  const npy::Array x = noise({9600}, 7);
  const sdk::Spec spec = spec_of({{"time", -1}}, 0, 48000);
  AbiStage one("audio.decode", {{"sample_rate", "16000"}});
  one.start(spec);
  const npy::Array ref = one.run(x, 0, 0, 0);
  EXPECT_NEAR(static_cast<double>(ref.data.size()), 3200.0, 1.0);
  for (int64_t chunk : {1, 100, 4096}) {
    AbiStage st("audio.decode", {{"sample_rate", "16000"}});
    st.start(spec);
    const npy::Array got = st.run(x, 0, chunk, 0);
    ASSERT_EQ(got.shape, ref.shape) << chunk;
    EXPECT_LE(max_abs_diff(got.data, ref.data), 1e-6) << chunk;  // spec §7 streaming bound
  }
}

// Per-frame L2-normalized mel power of x and g·x agree to 1e-6.
TEST(AudioStream, GainInvariantAfterPerFrameL2) {
  const Tensor x = run_file_steps("  - use: audio.decode\n", source_dir() / "samples" / "audio" / "front_center_16k.wav");
  const std::string steps = "  - use: audio.stft\n    with: {n_fft: 512, win_length: 400, hop_length: 160}\n"
                            "  - use: audio.mel\n    with: {n_mels: 80}\n";
  auto l2 = [](Tensor t) {
    const int64_t m = t.shape[1];
    for (int64_t r = 0; r < t.shape[0]; ++r) {
      double s = 0;
      for (int64_t k = 0; k < m; ++k) s += static_cast<double>(t.data[r * m + k]) * t.data[r * m + k];
      const double n = std::sqrt(s);
      for (int64_t k = 0; k < m; ++k) t.data[r * m + k] = n > 0 ? static_cast<float>(t.data[r * m + k] / n) : 0.0f;
    }
    return t;
  };
  auto mel = [&](float g) {
    Tensor in = tensor(x.shape, {"time"}, x.data, {{"sample_rate", 16000.0}});
    for (float& v : in.data) v *= g;
    return l2(run_tensor_steps(steps, in, "time"));
  };
  const Tensor ref = mel(1.0f);
  for (float g : {1e-3f, 1e-2f, 0.1f, 3.0f, 100.0f, 1e3f}) {
    const Tensor got = mel(g);
    ASSERT_EQ(got.shape, ref.shape);
    EXPECT_LE(max_abs_diff(got.data, ref.data), 1e-6) << "gain " << g;
  }
}

// pipelines/speech-logmel.yaml puts the L2 on the mel power before the log,
// so its output does not depend on the recording level (its comment).
TEST(AudioStream, SpeechLogmelPipelineIsGainInvariant) {
  const Tensor x = run_file_steps("  - use: audio.decode\n", source_dir() / "samples" / "audio" / "speech_espeak_16k.wav");
  LoadOptions opts;
  opts.input = TensorSpec{{"time"}, {-1}, 0, {{"sample_rate", 16000.0}}};
  auto pipe = Pipeline::load((source_dir() / "pipelines" / "speech-logmel.yaml").string(), opts);
  auto run = [&](float g) {
    Tensor in = tensor(x.shape, {"time"}, x.data, {{"sample_rate", 16000.0}});
    for (float& v : in.data) v *= g;
    return pipe->session()->run(in);
  };
  const Tensor ref = run(1.0f);
  ASSERT_EQ(ref.shape[1], 80);
  for (float g : {1e-3f, 0.05f, 20.0f, 1e3f}) {
    const Tensor got = run(g);
    ASSERT_EQ(got.shape, ref.shape);
    EXPECT_LE(max_abs_diff(got.data, ref.data), 1e-4) << "gain " << g;  // log units
  }
}

std::string error_of(const std::string& steps, const Tensor& in) {
  try {
    run_tensor_steps(steps, in, "time");
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

TEST(AudioStream, TooShortInputs) {
  auto sig = [](int64_t n) { return tensor({n}, {"time"}, std::vector<float>(static_cast<size_t>(n), 0.1f), {{"sample_rate", 16000.0}}); };
  const std::string stft = "  - use: audio.stft\n    with: {n_fft: 512, hop_length: 160}\n";
  // torch's reflect padding needs more than n_fft/2 samples.
  std::string e = error_of(stft, sig(256));
  EXPECT_NE(e.find("too short for reflect padding"), std::string::npos) << e;
  EXPECT_NE(e.find("256"), std::string::npos) << e;
  // 257 is enough: 1 + 257/160 = 2 frames, as torch.stft.
  EXPECT_EQ(run_tensor_steps(stft, sig(257), "time").shape, (std::vector<int64_t>{2, 257}));
  // Zero padding takes any length: 1 + 10/160 = 1 frame.
  EXPECT_EQ(run_tensor_steps("  - use: audio.stft\n    with: {n_fft: 512, hop_length: 160, pad_mode: constant}\n",
                             sig(10), "time").shape,
            (std::vector<int64_t>{1, 257}));
  // Without center, a frame needs n_fft samples.
  e = error_of("  - use: audio.stft\n    with: {n_fft: 512, center: false}\n", sig(511));
  EXPECT_NE(e.find("shorter than one frame"), std::string::npos) << e;
  // Kaldi fbank with snip_edges needs one 25 ms frame (400 samples).
  e = error_of("  - use: audio.fbank\n", sig(399));
  EXPECT_NE(e.find("shorter than one frame"), std::string::npos) << e;
  EXPECT_EQ(run_tensor_steps("  - use: audio.fbank\n", sig(400), "time").shape, (std::vector<int64_t>{1, 23}));
}

// The stages follow the signal's rate: 8 kHz and 48 kHz inputs give the
// frame counts and mel ranges torchaudio gives at those rates.
TEST(AudioStream, RatesOtherThan16k) {
  for (double rate : {8000.0, 48000.0}) {
    SCOPED_TRACE(rate);
    const int64_t n = static_cast<int64_t>(rate);  // one second
    Tensor in = tensor({n}, {"time"}, noise({n}, 9).data, {{"sample_rate", rate}});
    const Tensor mel = run_tensor_steps("  - use: audio.stft\n    with: {n_fft: 1024, hop_length: 256}\n"
                                        "  - use: audio.mel\n    with: {n_mels: 64}\n",
                                        in, "time");
    EXPECT_EQ(mel.shape, (std::vector<int64_t>{1 + n / 256, 64}));
    const Tensor fb = run_tensor_steps("  - use: audio.fbank\n", in, "time");
    const int64_t len = static_cast<int64_t>(rate * 0.025), shift = static_cast<int64_t>(rate * 0.01);
    EXPECT_EQ(fb.shape, (std::vector<int64_t>{1 + (n - len) / shift, 23}));
  }
}

}  // namespace
}  // namespace featpipe::test
