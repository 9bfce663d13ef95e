// Resource bounds of audio.decode: a file's header must not size what is
// allocated. A 400 KB WAV claiming 1 Hz resampled to 16 kHz is ~3e9 samples
// (it crashed inside libsoxr); such headers, and files longer than
// `max_duration`, are refused before decoding, naming the file.
#include <gtest/gtest.h>
#include <sndfile.h>

#include <cmath>

#include "audio_support.hpp"

namespace featpipe::test {
namespace {

// A 16-bit mono WAV of `frames` samples, written at 16 kHz, then its header's
// sample rate (and byte rate) patched to `rate`.
void write_wav_claiming(const fs::path& p, int64_t frames, uint32_t rate) {
  std::vector<float> x(static_cast<size_t>(frames));
  for (size_t k = 0; k < x.size(); ++k) x[k] = static_cast<float>(0.25 * std::sin(0.05 * static_cast<double>(k)));
  write_audio(p, SF_FORMAT_WAV | SF_FORMAT_PCM_16, 16000, 1, x);
  std::string bytes = read_text(p);
  ASSERT_EQ(bytes.substr(12, 4), "fmt ");  // a plain 44-byte header: rate at 24, byte rate at 28
  for (int k = 0; k < 4; ++k) {
    bytes[24 + k] = static_cast<char>((rate >> (8 * k)) & 0xff);
    bytes[28 + k] = static_cast<char>(((rate * 2) >> (8 * k)) & 0xff);
  }
  write_text(p, bytes);
}

std::string decode_error(const std::string& with, const fs::path& file) {
  try {
    run_file_steps("  - use: audio.decode\n    with: " + with + "\n", file);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(AudioBounds, AbsurdHeaderSampleRatesAreRefused) {
  TempDir dir;
  write_wav_claiming(dir / "one_hz.wav", 200000, 1);
  std::string e = decode_error("{sample_rate: 16000}", dir / "one_hz.wav");
  EXPECT_NE(e.find("'one_hz.wav' declares a sample rate of 1 Hz in its header; audio.decode reads files of 1000 to "
                   "1000000 Hz"),
            std::string::npos)
      << e;
  write_wav_claiming(dir / "fast.wav", 1000, 50000000);
  e = decode_error("{sample_rate: 16000}", dir / "fast.wav");
  EXPECT_NE(e.find("'fast.wav' declares a sample rate of 50000000 Hz"), std::string::npos) << e;
  // The bounds themselves are fine (and resample).
  write_wav_claiming(dir / "low.wav", 1000, 1000);
  EXPECT_EQ(decode_error("{sample_rate: 16000}", dir / "low.wav"), "");
}

TEST(AudioBounds, MaxDurationIsCheckedOnTheHeader) {
  TempDir dir;
  write_wav_claiming(dir / "three_s.wav", 3 * 8000, 8000);
  std::string e = decode_error("{max_duration: 2.5}", dir / "three_s.wav");
  EXPECT_NE(e.find("'three_s.wav' is 3 s long (24000 frames at 8000 Hz), over max_duration (2.5 s)"), std::string::npos)
      << e;
  EXPECT_EQ(decode_error("{max_duration: 3}", dir / "three_s.wav"), "");
  const Tensor t = run_file_steps("  - use: audio.decode\n    with: {sample_rate: 16000}\n", dir / "three_s.wav");
  EXPECT_EQ(t.shape, (std::vector<int64_t>{48000}));  // default max_duration (an hour) lets it through
}

// One bad file in a folder fails alone: the good ones are written, exit 1.
TEST(AudioBounds, RunOverAFolderWritesTheGoodFiles) {
  TempDir in, out;
  write_wav_claiming(in / "bad_rate.wav", 200000, 1);
  fs::copy_file(source_dir() / "samples/audio/speech_8k.wav", in / "speech_8k.wav");
  fs::copy_file(source_dir() / "samples/audio/stereo_48k.flac", in / "stereo_48k.flac");
  const CmdResult r = run_cli({"run", (source_dir() / "pipelines/speech-logmel.yaml").string(), in.path().string(), "-o",
                               out.path().string()});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_TRUE(fs::exists(out / "speech_8k.wav.npy"));
  EXPECT_TRUE(fs::exists(out / "stereo_48k.flac.npy"));
  EXPECT_FALSE(fs::exists(out / "bad_rate.wav.npy"));
  EXPECT_NE(r.err.find("bad_rate.wav"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("declares a sample rate of 1 Hz"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace featpipe::test
