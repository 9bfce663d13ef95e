// Stream == batch: for every streamable pipeline in pipelines/ that reads
// audio, the frames a Stream emits equal `featpipe run` on the same samples,
// whatever the push sizes (1, 7, 160, 1000, 16000 and random).
#include "stream_support.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

using namespace featpipe;

namespace {

using test::decode;
using test::Samples;

std::vector<fs::path> audio_samples() {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(test::source_dir() / "samples" / "audio")) {
    const auto ext = e.path().extension();
    if (ext == ".wav" || ext == ".flac") out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

// Pipelines in pipelines/ whose first step is audio.decode.
std::vector<fs::path> audio_pipelines() {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(test::source_dir() / "pipelines")) {
    if (e.path().extension() != ".yaml") continue;
    auto p = Pipeline::load(e.path().string());
    if (p->steps().front().use == "audio.decode") out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

struct Result {
  std::vector<float> data;
  int64_t frames = 0;
};

Result stream(const std::shared_ptr<const Pipeline>& p, const Samples& s, const std::vector<size_t>& sizes) {
  Stream st(p, StreamFormat{s.rate, s.channels});
  Result r;
  auto take = [&](const FramesView& v) {
    r.data.insert(r.data.end(), v.data, v.data + v.numel());
    r.frames += v.frames();
  };
  size_t at = 0, k = 0;
  while (at < s.frames()) {
    size_t n = std::min(sizes[k++ % sizes.size()], s.frames() - at);
    st.push(s.interleaved.data() + at * s.channels, n);
    at += n;
    if (FramesView v = st.pull(); !v.empty()) take(v);
  }
  st.flush();
  if (FramesView v = st.pull(); !v.empty()) take(v);
  return r;
}

}  // namespace

TEST(StreamEqualsBatch, EveryStreamablePipelineEveryChunkSize) {
  const auto pipelines = audio_pipelines();
  const auto files = audio_samples();
  ASSERT_GE(files.size(), 3u);
  // The shipped speech pipelines must be among them.
  bool logmel = false;
  for (const auto& p : pipelines) logmel |= p.filename() == "speech-logmel.yaml";
  ASSERT_TRUE(logmel) << "pipelines/speech-logmel.yaml missing";

  std::mt19937 rng(1234);
  std::vector<size_t> random_sizes(64);
  for (auto& n : random_sizes) n = std::uniform_int_distribution<size_t>(1, 5000)(rng);
  const std::vector<std::vector<size_t>> chunkings = {{1}, {7}, {160}, {1000}, {16000}, random_sizes};

  int streamed = 0, identical = 0;
  for (const auto& pf : pipelines) {
    auto p = Pipeline::load(pf.string());
    if (p->batch_only_step()) continue;  // refused: see the next test
    auto batch_session = p->session();
    for (const auto& f : files) {
      const Samples s = decode(f);
      const Tensor batch = batch_session->run_file(f.string());
      ASSERT_FALSE(batch.data.empty()) << pf << " " << f;
      for (const auto& sizes : chunkings) {
        const Result r = stream(p, s, sizes);
        SCOPED_TRACE(pf.filename().string() + " on " + f.filename().string() + ", first push size " +
                     std::to_string(sizes[0]));
        ASSERT_EQ(r.frames, batch.shape[0]);
        ASSERT_EQ(r.data.size(), batch.data.size());
        double worst = 0;
        for (size_t k = 0; k < r.data.size(); ++k) {
          const double tol = 1e-6 * std::max(1.0, std::fabs(double(batch.data[k])));
          worst = std::max(worst, std::fabs(double(r.data[k]) - batch.data[k]) / tol);
        }
        EXPECT_LE(worst, 1.0) << "max |stream - batch| exceeds 1e-6·max(1,|value|)";
        identical += r.data == batch.data;
        ++streamed;
      }
    }
  }
  EXPECT_GE(streamed, 6 * 3);
  std::printf("stream == batch: %d runs (pipelines x files x chunkings), %d bit-identical\n", streamed, identical);
  ::testing::Test::RecordProperty("bit_identical_runs", std::to_string(identical) + " of " + std::to_string(streamed));
}

TEST(StreamEqualsBatch, ResamplingCaptureRateInAStream) {
  // Capture at 48 kHz, pipeline at 16 kHz: the stream resamples
  // incrementally, with each libsoxr quality; lower ones cut the latency.
  test::TempDir dir;
  const fs::path f = test::source_dir() / "samples" / "audio" / "stereo_48k.flac";
  const Samples s = decode(f);
  ASSERT_EQ(s.rate, 48000);
  double vhq_latency = 0;
  for (const std::string quality : {"vhq", "lq"}) {
    test::write_text(dir / "p.yaml", "featpipe: 1\nname: r\nstages:\n  - use: audio.decode\n    with: {sample_rate: 16000, "
                                     "resample_quality: " + quality + "}\n  - use: audio.stft\n    with: {n_fft: 400, hop_length: 160}\n"
                                     "  - use: audio.mel\n    with: {n_mels: 40}\n");
    auto p = Pipeline::load((dir / "p.yaml").string());
    const Tensor batch = p->session()->run_file(f.string());
    for (size_t chunk : {size_t{1}, size_t{480}, size_t{4801}}) {
      const Result r = stream(p, s, {chunk});
      ASSERT_EQ(r.data.size(), batch.data.size()) << quality << " " << chunk;
      EXPECT_LE(test::max_abs_diff(r.data, batch.data), 1e-6 * std::max(1.0, test::max_abs(batch.data))) << quality << " " << chunk;
    }
    const double latency = Stream(p, StreamFormat{48000, 2}).latency_samples();
    if (quality == "vhq") vhq_latency = latency;
    else EXPECT_LT(latency, 0.6 * vhq_latency) << quality;
  }
}

TEST(Stream, WholeInputStepsAreRefusedAtOpen) {
  test::TempDir dir;
  test::write_text(dir / "p.yaml", "featpipe: 1\nname: cmvn\nstages:\n  - use: audio.decode\n  - use: audio.stft\n"
                                   "  - use: audio.mel\n  - use: norm.cmvn\n");
  auto p = Pipeline::load((dir / "p.yaml").string());
  try {
    Stream st(p, StreamFormat{16000, 1});
    FAIL() << "a whole-input step must be refused";
  } catch (const Error& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("p.yaml:7:10: step 4 'norm.cmvn' needs the whole input"), std::string::npos) << m;
    EXPECT_NE(m.find("`window: N`"), std::string::npos) << m;
  }
  // The CLI says so too, with exit status 2.
  auto r = test::run_shell("printf '\\0\\0\\0\\0' | " + test::quote(FEATPIPE_CLI) + " stream " +
                           test::quote((dir / "p.yaml").string()) + " --rate 16000 -o " + test::quote((dir / "o.npy").string()));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("needs the whole input"), std::string::npos) << r.err;
}

TEST(Stream, CallbackModeResetAndNaN) {
  test::TempDir dir;
  test::write_text(dir / "p.yaml", "featpipe: 1\nname: s\nstages:\n  - use: audio.decode\n  - use: audio.stft\n"
                                   "    with: {n_fft: 64}\n");
  auto p = Pipeline::load((dir / "p.yaml").string());
  std::vector<float> x(1000);
  for (size_t k = 0; k < x.size(); ++k) x[k] = static_cast<float>(std::sin(0.05 * k));
  Stream st(p, StreamFormat{8000, 1});
  std::vector<float> got;
  st.on_frames([&](const FramesView& v) { got.insert(got.end(), v.data, v.data + v.numel()); });
  st.push(x.data(), 333);
  st.push(x.data() + 333, 667);
  st.flush();
  EXPECT_TRUE(st.pull().empty());  // callback mode: nothing left to pull
  const size_t frames = got.size() / 33;
  EXPECT_EQ(frames, 1 + 1000 / 32u);  // centered frames, hop n_fft/2 = 32, as torch
  // reset(): the same samples again give the same frames.
  std::vector<float> first = got;
  got.clear();
  st.reset();
  st.push(x.data(), 1000);
  st.flush();
  EXPECT_EQ(got, first);
  // A NaN in a capture buffer is an error, not silent garbage.
  st.reset();
  x[10] = NAN;
  EXPECT_THROW(st.push(x.data(), 100), Error);
}

TEST(Stream, CliStreamEqualsRun) {
  const fs::path pf = test::source_dir() / "pipelines" / "speech-logmel.yaml";
  ASSERT_TRUE(fs::exists(pf));
  const fs::path f = test::source_dir() / "samples" / "audio" / "front_center_16k.wav";
  test::TempDir dir;
  // 16-bit WAV: the decoded floats are exactly int16 / 32768.
  const Samples s = decode(f);
  std::string raw(s.interleaved.size() * 2, '\0');
  for (size_t k = 0; k < s.interleaved.size(); ++k) {
    const auto v = static_cast<int16_t>(std::lround(s.interleaved[k] * 32768.0f));
    std::memcpy(&raw[2 * k], &v, 2);
  }
  test::write_text(dir / "x.raw", raw);
  auto r = test::run_shell(test::quote(FEATPIPE_CLI) + " stream " + test::quote(pf.string()) + " --rate " +
                           std::to_string(static_cast<int>(s.rate)) + " --chunk 123 -o " +
                           test::quote((dir / "s.npy").string()) + " < " + test::quote((dir / "x.raw").string()));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = test::run_cli({"run", pf.string(), f.string(), "-o", (dir / "out").string(), "-q"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  npy::Array a = npy::read((dir / "s.npy").string());
  npy::Array b = npy::read((dir / "out" / (f.filename().string() + ".npy")).string());
  EXPECT_EQ(a.shape, b.shape);
  EXPECT_LE(test::max_abs_diff(a.data, b.data), 1e-6 * std::max(1.0, test::max_abs(b.data)));
}

TEST(Stream, PipelinesWithoutATimeAxisAndTooShortStreams) {
  test::TempDir dir;
  // An image pipeline has nothing to stream along.
  auto p = Pipeline::load((test::source_dir() / "pipelines" / "tensor-l2.yaml").string());
  try {
    Stream st(p, StreamFormat{16000, 1});
    FAIL() << "a pipeline without a time axis must be refused";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("no time axis to stream along"), std::string::npos) << e.what();
  }
  // Too few samples for one frame: exit 2, the step named, no output file left.
  const fs::path out = dir / "short.npy";
  auto r = test::run_shell("head -c 200 /dev/zero | " + test::quote(FEATPIPE_CLI) + " stream " +
                           test::quote((test::source_dir() / "pipelines" / "speech-logmel.yaml").string()) +
                           " --rate 16000 -o " + test::quote(out.string()));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("step 2 'audio.stft': input of 100 samples is too short"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(out));
}

TEST(Stream, LatencyIncludesTheResamplersDelay) {
  auto p = Pipeline::load((test::source_dir() / "pipelines" / "speech-logmel.yaml").string());
  ASSERT_DOUBLE_EQ(p->latency_samples(), 256.0);  // the centered STFT: n_fft / 2 at 16 kHz
  Stream same(p, StreamFormat{16000, 1});
  EXPECT_DOUBLE_EQ(same.latency_samples(), 256.0);
  // At 48 kHz: the resampler's delay plus 3 × 256 capture samples.
  Stream fast(p, StreamFormat{48000, 1});
  EXPECT_GT(fast.latency_samples(), 3 * 256.0);
  // And it is honest: after pushing `latency` samples past a frame's
  // centre, that frame has come out.
  const double lat = fast.latency_samples();
  std::vector<float> x(48000, 0.0f);
  for (size_t k = 0; k < x.size(); ++k) x[k] = static_cast<float>(0.1 * std::sin(0.01 * k));
  const size_t pushed = static_cast<size_t>(std::ceil(lat)) + 48000 / 100 * 10;  // frame 10's centre + latency
  fast.push(x.data(), pushed);
  EXPECT_GE(fast.pull().frames(), 11);
}
