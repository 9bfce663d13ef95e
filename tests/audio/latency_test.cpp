// Declared stream look-ahead is truthful: the engine's latency (sum of the
// steps' look-ahead) bounds how long a frame waits for input, including
// the resampler's delay in audio.decode; and a pipeline whose sample rate
// is unknown at load time (audio.decode without sample_rate, then
// audio.fbank) still reports a finite latency.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "audio_support.hpp"

namespace featpipe::test {
namespace {

const char* kSteps =
    "  - use: audio.decode\n    with: {sample_rate: 16000}\n"
    "  - use: audio.stft\n    with: {n_fft: 512, win_length: 400, hop_length: 160}\n";

std::shared_ptr<const Pipeline> parse_with_input(const std::string& steps, double rate) {
  LoadOptions opts;
  opts.input = TensorSpec{{"time"}, {-1}, 0, {{"sample_rate", rate}}};
  return Pipeline::parse("featpipe: 1\nname: lat\nstages:\n" + steps, "lat.yaml", source_dir().string(), opts);
}

sdk::Spec samples_spec(double rate) {
  sdk::Spec spec;
  spec.append("time", -1);
  spec.set_stream_axis(0);
  spec.set_attr("sample_rate", rate);
  return spec;
}

// audio.decode declares the resampler's delay as look-ahead (in input
// samples) when it knows both rates, and the figure holds: streamed in
// pushes of 16 samples, every STFT frame whose input ends by
// n - look-ahead has come out after n input samples.
TEST(AudioLatency, ResamplerDelayIsDeclaredAndHonest) {
  for (double rate : {48000.0, 44100.0, 8000.0}) {
    SCOPED_TRACE("input at " + std::to_string(rate));
    AbiStage decode("audio.decode", {{"sample_rate", "16000"}});
    const fp_stream_info info = decode.stream_info(samples_spec(rate));
    const double ratio = rate / 16000.0;
    EXPECT_DOUBLE_EQ(info.hop, ratio);
    const int64_t decode_la = info.lookahead;
    EXPECT_GT(decode_la, 0);
    EXPECT_LT(decode_la, rate / 4);  // VHQ soxr: well under 250 ms
    // Without resampling: no delay.
    AbiStage same("audio.decode", {{"sample_rate", "null"}});
    EXPECT_EQ(same.stream_info(samples_spec(rate)).lookahead, 0);

    auto pipe = Pipeline::parse(std::string("featpipe: 1\nname: lat\nstages:\n") + kSteps, "lat.yaml",
                                source_dir().string());
    Stream stream(pipe, StreamFormat{rate, 1});
    std::mt19937 rng(3);
    std::uniform_real_distribution<float> u(-0.5f, 0.5f);
    std::vector<float> chunk(16);
    int64_t fed = 0, frames = 0, checked = 0, lag_seen = 0;
    for (int k = 0; k < static_cast<int>(rate) / 8; ++k) {  // 2 s
      for (float& v : chunk) v = u(rng);
      stream.push(chunk.data(), chunk.size());
      fed += 16;
      frames += stream.pull().frames();
      // Frame t is centered at t*160 (16 kHz) and needs 256 samples after.
      const double at16 = (static_cast<double>(fed) - static_cast<double>(decode_la)) / ratio - 256.0;
      const int64_t due = at16 < 0 ? 0 : static_cast<int64_t>(std::floor(at16 / 160.0)) + 1;
      ASSERT_GE(frames, due) << "after " << fed << " input samples";
      checked += due > 0;
      // Frames due without the resampler's delay but not out yet: the delay is real.
      const double at16_nodelay = static_cast<double>(fed) / ratio - 256.0;
      lag_seen += frames < static_cast<int64_t>(std::floor(at16_nodelay / 160.0)) + 1;
    }
    EXPECT_GT(checked, 500);
    EXPECT_GT(lag_seen, 0);
  }
}

TEST(AudioLatency, UnknownRateAtLoadTimeSaysSo) {
  // audio.decode keeps the file's rate: audio.fbank's hop (10 ms in
  // samples) is unknown until a file is opened. The engine says the latency
  // is unknown (NaN), validate says why, instead of a number too low.
  const std::string yaml = "featpipe: 1\nname: fb\nstages:\n  - use: audio.decode\n  - use: audio.fbank\n"
                           "    with: {num_mel_bins: 80}\n  - use: norm.cmvn\n    with: {window: 300}\n";
  auto pipe = Pipeline::parse(yaml, "fb.yaml", source_dir().string());
  EXPECT_TRUE(std::isnan(pipe->latency_samples()));
  for (const auto& s : pipe->steps()) EXPECT_FALSE(std::isnan(s.stream.hop)) << s.use;
  TempDir tmp;
  write_text(tmp / "fb.yaml", yaml);
  const auto r = run_cli({"validate", (tmp / "fb.yaml").string()});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.find("nan"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("streaming: yes, latency known once the sample rate is"), std::string::npos) << r.out;
  // With the rate known (fbank first, on 16 kHz samples), it declares its
  // frame shift as hop and its frame length as look-ahead: 400 samples.
  auto known = parse_with_input("  - use: audio.fbank\n", 16000);
  EXPECT_DOUBLE_EQ(known->steps()[0].stream.hop, 160.0);
  EXPECT_DOUBLE_EQ(known->latency_samples(), 400.0);
}

}  // namespace
}  // namespace featpipe::test
