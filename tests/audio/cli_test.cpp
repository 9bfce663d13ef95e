// The audio pipelines through `featpipe run`: each runs on samples/audio,
// and bad inputs fail one by one (exit 1, each named) while the good ones
// are still written.
#include <gtest/gtest.h>
#include <sndfile.h>

#include <cmath>
#include <fstream>
#include <numbers>

#include "audio_support.hpp"

namespace featpipe::test {
namespace {

fs::path pipeline(const std::string& name) { return source_dir() / "pipelines" / (name + ".yaml"); }

std::vector<float> tone(int rate, double seconds) {
  std::vector<float> x(static_cast<size_t>(rate * seconds));
  for (size_t k = 0; k < x.size(); ++k) x[k] = static_cast<float>(0.3 * std::sin(2 * std::numbers::pi * 440.0 * k / rate));
  return x;
}

TEST(AudioCli, PipelinesRunOnSamples) {
  struct Want {
    const char* pipeline;
    int64_t frames;  // for front_center_16k.wav (19838 samples)
    int64_t width;
  };
  for (const Want& w : {Want{"speech-logmel", 1 + 19838 / 160, 80}, Want{"speech-mfcc", 1 + 19838 / 160, 39},
                        Want{"kaldi-fbank", 1 + (19838 - 400) / 160, 80}}) {
    SCOPED_TRACE(w.pipeline);
    TempDir out;
    const auto r = run_cli({"run", pipeline(w.pipeline).string(), (source_dir() / "samples" / "audio").string(), "-o",
                            out.path().string()});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    for (const char* f : {"front_center_16k.wav", "rear_right_16k.wav", "speech_espeak_16k.wav", "speech_8k.wav",
                          "stereo_48k.flac"}) {
      const fs::path npy_path = out / (std::string(f) + ".npy");
      ASSERT_TRUE(fs::exists(npy_path)) << npy_path;
      const npy::Array a = npy::read(npy_path.string());
      ASSERT_EQ(a.shape.size(), 2u);
      EXPECT_EQ(a.shape[1], w.width);
      for (float v : a.data) ASSERT_TRUE(std::isfinite(v));
      if (std::string(f) == "front_center_16k.wav") EXPECT_EQ(a.shape[0], w.frames);
    }
  }
}

// Raw 16-bit PCM of a sample file (interleaved), for `featpipe stream`.
fs::path raw_pcm(const fs::path& file, const fs::path& dir, int& rate, int& channels) {
  SF_INFO info{};
  SNDFILE* f = sf_open(file.c_str(), SFM_READ, &info);
  EXPECT_NE(f, nullptr);
  std::vector<short> s(static_cast<size_t>(info.frames * info.channels));
  sf_readf_short(f, s.data(), info.frames);
  sf_close(f);
  rate = info.samplerate;
  channels = info.channels;
  const fs::path p = dir / (file.filename().string() + ".raw");
  std::ofstream(p, std::ios::binary).write(reinterpret_cast<const char*>(s.data()), static_cast<std::streamsize>(s.size() * 2));
  return p;
}

// `featpipe stream` (chunks of odd sizes) writes what `featpipe run` writes
// for the same samples: framing, mel, fbank and resampling are incremental.
TEST(AudioCli, StreamEqualsRun) {
  TempDir tmp;
  struct Case {
    const char* pipeline;
    const char* file;
    const char* chunk;
  };
  for (const Case& c : {Case{"speech-logmel", "front_center_16k.wav", "137"}, Case{"kaldi-fbank", "front_center_16k.wav", "1"},
                        Case{"speech-logmel", "stereo_48k.flac", "1000"}, Case{"kaldi-fbank", "speech_8k.wav", "333"}}) {
    SCOPED_TRACE(std::string(c.pipeline) + " " + c.file + " chunk " + c.chunk);
    const fs::path file = source_dir() / "samples" / "audio" / c.file;
    int rate = 0, channels = 0;
    const fs::path raw = raw_pcm(file, tmp.path(), rate, channels);
    const fs::path streamed = tmp / "streamed.npy";
    const auto s = run_shell(quote(FEATPIPE_CLI) + " stream " + quote(pipeline(c.pipeline).string()) + " --rate " +
                             std::to_string(rate) + " --channels " + std::to_string(channels) +
                             " --format s16le --chunk " + c.chunk + " -o " + quote(streamed.string()) + " < " +
                             quote(raw.string()));
    ASSERT_EQ(s.exit_code, 0) << s.err;
    const auto r = run_cli({"run", pipeline(c.pipeline).string(), file.string(), "-o", (tmp / "run").string(), "--overwrite"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const npy::Array a = npy::read(streamed.string()), b = npy::read((tmp / "run" / (std::string(c.file) + ".npy")).string());
    ASSERT_EQ(a.shape, b.shape);
    EXPECT_LE(max_abs_diff(a.data, b.data), 1e-6);  // spec §7 (bit-identical is the aim, and what we get)
  }
  // A batch-only pipeline (top_db, per-utterance CMVN) is refused up front.
  const auto m = run_shell(quote(FEATPIPE_CLI) + " stream " + quote(pipeline("speech-mfcc").string()) +
                           " --rate 16000 -o " + quote((tmp / "x.npy").string()) + " < /dev/null");
  EXPECT_EQ(m.exit_code, 2);
  EXPECT_NE(m.err.find("audio.db"), std::string::npos) << m.err;
}

// Every stage's documented example step runs (after the steps that make its
// input) on a sample recording.
TEST(AudioCli, StageExamplesRun) {
  const std::string decode = "  - use: audio.decode\n", stft = "  - use: audio.stft\n", mel = "  - use: audio.mel\n",
                    fbank = "  - use: audio.fbank\n";
  const std::map<std::string, std::string> before = {
      {"audio.decode", ""},           {"audio.preemphasis", decode},        {"audio.stft", decode},
      {"audio.fbank", decode},        {"audio.mel", decode + stft},         {"audio.db", decode + stft + mel},
      {"audio.mfcc", decode + stft + mel + "  - use: audio.db\n"}, {"audio.deltas", decode + fbank},
      {"norm.cmvn", decode + fbank},  {"audio.kaldi_mfcc", decode},     {"audio.kaldi_spectrogram", decode}};
  const auto examples = audio_stage_examples();
  EXPECT_EQ(examples.size(), before.size());
  for (const auto& [name, example] : examples) {
    SCOPED_TRACE(name);
    ASSERT_TRUE(before.count(name)) << "no input steps for " << name;
    ASSERT_NE(example.find("- use: " + name), std::string::npos) << example;
    std::string step;  // indent the example under `stages:`
    std::istringstream lines(example);
    for (std::string line; std::getline(lines, line);) step += "  " + line + "\n";
    Tensor t;
    ASSERT_NO_THROW(t = run_file_steps(before.at(name) + step, source_dir() / "samples" / "audio" / "front_center_16k.wav"));
    EXPECT_GT(t.numel(), 0);
    for (float v : t.data) ASSERT_TRUE(std::isfinite(v));
  }
}

// Worker threads share FFTW plans and nothing else: -j 2 writes the same bits.
TEST(AudioCli, ThreadsGiveTheSameBits) {
  TempDir one, two;
  const std::string samples = (source_dir() / "samples" / "audio").string();
  for (const char* p : {"speech-mfcc", "kaldi-fbank"}) {
    SCOPED_TRACE(p);
    ASSERT_EQ(run_cli({"run", pipeline(p).string(), samples, "-o", (one / p).string(), "-j", "1"}).exit_code, 0);
    ASSERT_EQ(run_cli({"run", pipeline(p).string(), samples, "-o", (two / p).string(), "-j", "2"}).exit_code, 0);
    for (const auto& e : fs::directory_iterator(one / p)) {
      if (e.path().extension() != ".npy") continue;
      const npy::Array a = npy::read(e.path().string()), b = npy::read((two / p / e.path().filename()).string());
      EXPECT_EQ(a.shape, b.shape) << e.path();
      EXPECT_EQ(a.data, b.data) << e.path();
    }
  }
}

TEST(AudioCli, BadInputsFailByNameOthersWritten) {
  TempDir in, out;
  write_audio(in / "good.wav", SF_FORMAT_WAV | SF_FORMAT_PCM_16, 16000, 1, tone(16000, 0.5));
  write_audio(in / "good48k.flac", SF_FORMAT_FLAC | SF_FORMAT_PCM_16, 48000, 1, tone(48000, 0.5));
  { std::ofstream(in / "empty.wav"); }
  {
    std::ofstream os(in / "corrupt.wav", std::ios::binary);
    os << "RIFF\x24\x00\x00\x00WAVEfmt garbage that is not a wave header";
  }
  {
    write_audio(in / "full.wav.tmp", SF_FORMAT_WAV | SF_FORMAT_PCM_16, 16000, 1, tone(16000, 0.5));
    std::ifstream is(in / "full.wav.tmp", std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(is)), {});
    std::ofstream(in / "truncated.wav", std::ios::binary) << bytes.substr(0, 4000);
    fs::remove(in / "full.wav.tmp");
  }
  write_audio(in / "short.wav", SF_FORMAT_WAV | SF_FORMAT_PCM_16, 16000, 1, tone(16000, 0.01));  // 160 samples
  std::vector<float> nan = tone(16000, 0.5);
  nan[1234] = std::numeric_limits<float>::quiet_NaN();
  write_audio(in / "nan.wav", SF_FORMAT_WAV | SF_FORMAT_FLOAT, 16000, 1, nan);

  const auto r = run_cli({"run", pipeline("speech-logmel").string(), in.path().string(), "-o", out.path().string()});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  const std::map<std::string, std::string> failures = {{"empty.wav", "empty"},
                                                       {"corrupt.wav", "cannot decode"},
                                                       {"truncated.wav", "truncated"},
                                                       {"short.wav", "too short"},
                                                       {"nan.wav", "NaN"}};
  for (const auto& [file, why] : failures) {
    // One stderr line names the file and the problem.
    bool found = false;
    std::istringstream lines(r.err);
    for (std::string line; std::getline(lines, line);)
      if (line.find(file) != std::string::npos && line.find(why) != std::string::npos) found = true;
    EXPECT_TRUE(found) << file << " / " << why << " not reported in:\n" << r.err;
    EXPECT_FALSE(fs::exists(out / (file + ".npy"))) << file;
  }
  for (const char* good : {"good.wav", "good48k.flac"}) {
    ASSERT_TRUE(fs::exists(out / (std::string(good) + ".npy"))) << good;
    EXPECT_EQ(npy::read((out / (std::string(good) + ".npy")).string()).shape, (std::vector<int64_t>{1 + 8000 / 160, 80}));
  }
  const std::string manifest = read_text(out / "manifest.jsonl");
  size_t errors = 0, oks = 0, pos = 0;
  while ((pos = manifest.find("\"status\":\"error\"", pos)) != std::string::npos) ++errors, ++pos;
  pos = 0;
  while ((pos = manifest.find("\"status\":\"ok\"", pos)) != std::string::npos) ++oks, ++pos;
  EXPECT_EQ(errors, failures.size()) << manifest;
  EXPECT_EQ(oks, 2u) << manifest;
}

}  // namespace
}  // namespace featpipe::test
