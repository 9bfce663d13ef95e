// audio.decode: formats, mix-down, channels kept, resampling, push mode, and
// bad files (each refused with the file's name and the problem).
#include <gtest/gtest.h>
#include <sndfile.h>

#include <cmath>
#include <fstream>
#include <numbers>

#include "audio_support.hpp"

namespace featpipe::test {
namespace {

const std::string kDecode = "  - use: audio.decode\n";

std::vector<float> tone(int rate, double hz, double seconds, double amp) {
  std::vector<float> x(static_cast<size_t>(rate * seconds));
  for (size_t k = 0; k < x.size(); ++k) x[k] = static_cast<float>(amp * std::sin(2 * std::numbers::pi * hz * k / rate));
  return x;
}

double rms(const std::vector<float>& x) {
  double s = 0;
  for (float v : x) s += static_cast<double>(v) * v;
  return std::sqrt(s / static_cast<double>(x.size()));
}

// Frequency (Hz) of the strongest bin of the mean power spectrum (10 Hz bins).
double peak_hz(const fs::path& file) {
  const Tensor s = run_file_steps(kDecode + "  - use: audio.stft\n    with: {n_fft: 1600, hop_length: 400}\n", file);
  const int64_t frames = s.shape[0], bins = s.shape[1];
  std::vector<double> mean(static_cast<size_t>(bins), 0.0);
  for (int64_t t = 0; t < frames; ++t)
    for (int64_t k = 0; k < bins; ++k) mean[static_cast<size_t>(k)] += s.data[static_cast<size_t>(t * bins + k)];
  return 10.0 * static_cast<double>(std::max_element(mean.begin(), mean.end()) - mean.begin());
}

// Bad files: each error names the file and says what is wrong.
void expect_error(const fs::path& p, const std::string& steps, const std::vector<std::string>& words) {
  try {
    run_file_steps(steps, p);
    ADD_FAILURE() << p << " was accepted";
  } catch (const std::exception& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find(p.filename().string()), std::string::npos) << msg;
    for (const auto& w : words) EXPECT_NE(msg.find(w), std::string::npos) << "'" << w << "' not in: " << msg;
  }
}

struct Format {
  const char* name;
  const char* ext;
  int format;
  int rate;
  double tol;  // max |decoded - written| for lossless; < 0: lossy
};

TEST(AudioDecode, FormatsLibsndfileReads) {
  const Format formats[] = {
      {"wav-u8", "wav", SF_FORMAT_WAV | SF_FORMAT_PCM_U8, 16000, 2.0 / 128},
      {"wav-16", "wav", SF_FORMAT_WAV | SF_FORMAT_PCM_16, 16000, 2.0 / 32768},
      {"wav-24", "wav", SF_FORMAT_WAV | SF_FORMAT_PCM_24, 16000, 2.0 / 8388608},
      {"wav-32", "wav", SF_FORMAT_WAV | SF_FORMAT_PCM_32, 16000, 1e-7},
      {"wav-float", "wav", SF_FORMAT_WAV | SF_FORMAT_FLOAT, 16000, 0.0},
      {"flac", "flac", SF_FORMAT_FLAC | SF_FORMAT_PCM_16, 16000, 2.0 / 32768},
      {"vorbis", "ogg", SF_FORMAT_OGG | SF_FORMAT_VORBIS, 16000, -1},
      {"opus", "opus", SF_FORMAT_OGG | SF_FORMAT_OPUS, 16000, -1},
      {"mp3", "mp3", SF_FORMAT_MPEG | SF_FORMAT_MPEG_LAYER_III, 16000, -1},
  };
  TempDir tmp;
  const std::vector<float> x = tone(16000, 440.0, 1.0, 0.5);
  for (const Format& f : formats) {
    SCOPED_TRACE(f.name);
    const fs::path p = tmp / (std::string(f.name) + "." + f.ext);
    write_audio(p, f.format, f.rate, 1, x);
    Tensor got;
    ASSERT_NO_THROW(got = run_file_steps(kDecode, p));
    ASSERT_EQ(got.axes, std::vector<std::string>{"time"});
    EXPECT_EQ(got.attrs.at("sample_rate"), 16000.0);
    if (f.tol >= 0) {
      ASSERT_EQ(got.data.size(), x.size());
      EXPECT_LE(max_abs_diff(got.data, x), f.tol);
    } else {  // lossy: same length within codec padding, level, and pitch
      EXPECT_NEAR(static_cast<double>(got.data.size()), static_cast<double>(x.size()), 0.1 * x.size());
      EXPECT_NEAR(rms(got.data), rms(x), 0.1 * rms(x));
      EXPECT_NEAR(peak_hz(p), 440.0, 10.0);
    }
  }
}

TEST(AudioDecode, ExtensionsOfferedWhenWalkingFolders) {
  auto pipe = Pipeline::parse("featpipe: 1\nname: d\nstages:\n" + kDecode, "d.yaml", source_dir().string());
  const auto ext = pipe->extensions();
  for (const char* e : {"wav", "flac", "ogg", "opus", "mp3"})
    EXPECT_NE(std::find(ext.begin(), ext.end(), e), ext.end()) << e;
}

TEST(AudioDecode, StereoMonoIsTheMeanAndChannelsCanBeKept) {
  TempDir tmp;
  const std::vector<float> l = tone(16000, 300.0, 0.5, 0.5), r = tone(16000, 700.0, 0.5, -0.25);
  std::vector<float> inter;
  for (size_t k = 0; k < l.size(); ++k) inter.insert(inter.end(), {l[k], r[k]});
  const fs::path p = tmp / "stereo.wav";
  write_audio(p, SF_FORMAT_WAV | SF_FORMAT_FLOAT, 16000, 2, inter);
  const Tensor mono = run_file_steps(kDecode, p);
  ASSERT_EQ(mono.shape, std::vector<int64_t>{static_cast<int64_t>(l.size())});
  std::vector<float> mean(l.size());
  for (size_t k = 0; k < l.size(); ++k) mean[k] = (l[k] + r[k]) * 0.5f;
  EXPECT_LE(max_abs_diff(mono.data, mean), 1e-7);

  const Tensor both = run_file_steps(kDecode + "    with: {mono: false}\n", p);
  ASSERT_EQ(both.shape, (std::vector<int64_t>{2, static_cast<int64_t>(l.size())}));
  EXPECT_EQ(both.axes, (std::vector<std::string>{"channel", "time"}));
  EXPECT_EQ(std::vector<float>(both.data.begin(), both.data.begin() + l.size()), l);
  EXPECT_EQ(std::vector<float>(both.data.begin() + l.size(), both.data.end()), r);

  // Channels flow through the spectrogram as a leading axis.
  const Tensor spec = run_file_steps(kDecode + "    with: {mono: false}\n  - use: audio.stft\n", p);
  EXPECT_EQ(spec.axes, (std::vector<std::string>{"channel", "frame", "freq"}));
  EXPECT_EQ(spec.shape[0], 2);
}

// Kaldi's --channel: one channel as it is, in file mode (a 3-channel file
// made by sox), in push mode and through resampling; a file with fewer
// channels fails by name.
TEST(AudioDecode, ChannelPicksOneChannel) {
  if (run_shell("command -v sox").exit_code != 0) GTEST_SKIP() << "sox not installed";
  TempDir tmp;
  const fs::path p = tmp / "three.wav";
  const auto made = run_shell("sox -n -r 16000 -b 16 -c 3 " + quote(p.string()) +
                              " synth 0.5 sine 300 sine 700 sine 1100 gain -6");
  ASSERT_EQ(made.exit_code, 0) << made.err;
  const Tensor all = run_file_steps(kDecode + "    with: {mono: false}\n", p);
  ASSERT_EQ(all.shape[0], 3);
  const int64_t n = all.shape[1];
  EXPECT_NE(std::vector<float>(all.data.begin(), all.data.begin() + n),
            std::vector<float>(all.data.begin() + n, all.data.begin() + 2 * n)) << "sox made equal channels";
  for (int64_t c = 0; c < 3; ++c) {
    SCOPED_TRACE(c);
    const Tensor one = run_file_steps(kDecode + "    with: {channel: " + std::to_string(c) + "}\n", p);
    ASSERT_EQ(one.shape, std::vector<int64_t>{n});
    EXPECT_EQ(one.data, std::vector<float>(all.data.begin() + c * n, all.data.begin() + (c + 1) * n));
    // The same row pushed as [channel, time].
    const Tensor pushed = run_tensor_steps(kDecode + "    with: {channel: " + std::to_string(c) + "}\n",
                                           tensor({3, n}, {"channel", "time"}, all.data, {{"sample_rate", 16000.0}}),
                                           "time");
    EXPECT_EQ(pushed.data, one.data);
  }
  // Resampled: the channel's own samples resampled, as with every channel kept.
  const Tensor up = run_file_steps(kDecode + "    with: {channel: 2, sample_rate: 32000}\n", p);
  const Tensor up_all = run_file_steps(kDecode + "    with: {mono: false, sample_rate: 32000}\n", p);
  const int64_t m = up_all.shape[1];
  ASSERT_EQ(up.shape, std::vector<int64_t>{m});
  EXPECT_LE(max_abs_diff(up.data, std::vector<float>(up_all.data.begin() + 2 * m, up_all.data.end())), 1e-6);
  expect_error(p, kDecode + "    with: {channel: 3}\n", {"has 3 channel(s)", "channel: 3"});
  // Kaldi's features of one channel: audio.fbank after channel: 1 is the
  // fbank of that channel of [channel, time].
  const Tensor fb1 = run_file_steps(kDecode + "    with: {channel: 1}\n  - use: audio.fbank\n", p);
  const Tensor fb = run_file_steps(kDecode + "    with: {mono: false}\n  - use: audio.fbank\n", p);
  ASSERT_EQ(fb.shape[0], 3);
  const size_t rows = fb1.data.size();
  EXPECT_EQ(fb1.data, std::vector<float>(fb.data.begin() + static_cast<std::ptrdiff_t>(rows),
                                         fb.data.begin() + static_cast<std::ptrdiff_t>(2 * rows)));
  // channel with mono: false is refused at load.
  try {
    run_file_steps(kDecode + "    with: {channel: 0, mono: false}\n", p);
    ADD_FAILURE() << "channel with mono: false was accepted";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("cannot be used with mono: false"), std::string::npos) << e.what();
  }
}

TEST(AudioDecode, ResamplesWithSoxr) {
  TempDir tmp;
  // A 1 kHz tone at 48 kHz and 8 kHz resampled to 16 kHz is the 1 kHz tone
  // at 16 kHz, in phase (libsoxr compensates its filter delay).
  for (int rate : {48000, 8000}) {
    SCOPED_TRACE(rate);
    const fs::path p = tmp / ("tone" + std::to_string(rate) + ".wav");
    write_audio(p, SF_FORMAT_WAV | SF_FORMAT_FLOAT, rate, 1, tone(rate, 1000.0, 1.0, 0.5));
    const Tensor got = run_file_steps(kDecode + "    with: {sample_rate: 16000}\n", p);
    EXPECT_EQ(got.attrs.at("sample_rate"), 16000.0);
    EXPECT_NEAR(static_cast<double>(got.data.size()), 16000.0, 1.0);
    const std::vector<float> want = tone(16000, 1000.0, 1.0, 0.5);
    double err = 0;
    for (size_t k = 800; k + 800 < std::min(want.size(), got.data.size()); ++k)
      err = std::max<double>(err, std::abs(got.data[k] - want[k]));
    EXPECT_LT(err, 1e-3) << "away from the ends";
  }
}

TEST(AudioDecode, PushModeMatchesFileMode) {
  TempDir tmp;
  const std::vector<float> x = tone(48000, 523.0, 0.7, 0.4);
  const fs::path p = tmp / "x.wav";
  write_audio(p, SF_FORMAT_WAV | SF_FORMAT_FLOAT, 48000, 1, x);
  const std::string steps = kDecode + "    with: {sample_rate: 16000}\n";
  const Tensor from_file = run_file_steps(steps, p);
  const Tensor pushed = run_tensor_steps(steps, tensor({static_cast<int64_t>(x.size())}, {"time"}, x,
                                                       {{"sample_rate", 48000.0}}),
                                         "time");
  ASSERT_EQ(pushed.shape, from_file.shape);
  EXPECT_LE(max_abs_diff(pushed.data, from_file.data), 1e-6);
  EXPECT_EQ(pushed.attrs.at("sample_rate"), 16000.0);

  // [channel, time] pushed with mono: the mean of the channels.
  std::vector<float> two(x);
  two.insert(two.end(), x.size(), 0.0f);
  const Tensor mixed = run_tensor_steps(kDecode, tensor({2, static_cast<int64_t>(x.size())}, {"channel", "time"}, two,
                                                        {{"sample_rate", 48000.0}}),
                                        "time");
  ASSERT_EQ(mixed.shape, std::vector<int64_t>{static_cast<int64_t>(x.size())});
  for (size_t k = 0; k < x.size(); ++k) ASSERT_EQ(mixed.data[k], x[k] * 0.5f);

  // One channel given as [1, time] comes out as [time] with mono.
  const Tensor one = run_tensor_steps(kDecode, tensor({1, 100}, {"channel", "time"}, std::vector<float>(x.begin(), x.begin() + 100),
                                                      {{"sample_rate", 48000.0}}),
                                      "time");
  EXPECT_EQ(one.shape, std::vector<int64_t>{100});
  EXPECT_EQ(one.axes, std::vector<std::string>{"time"});
}

void write_bytes(const fs::path& p, const std::string& bytes) {
  std::ofstream os(p, std::ios::binary);
  os << bytes;
}

TEST(AudioDecode, BadFilesAreRefusedByName) {
  TempDir tmp;
  write_bytes(tmp / "empty.wav", "");
  expect_error(tmp / "empty.wav", kDecode, {"empty"});

  write_bytes(tmp / "corrupt.wav", std::string("RIFF\x10\x00\x00\x00WAVEjunkjunkjunkjunkjunk", 32));
  expect_error(tmp / "corrupt.wav", kDecode, {"cannot decode"});

  write_bytes(tmp / "noise.flac", std::string(3000, '\x5a'));
  expect_error(tmp / "noise.flac", kDecode, {"cannot decode"});

  write_audio(tmp / "full.wav", SF_FORMAT_WAV | SF_FORMAT_PCM_16, 16000, 1, tone(16000, 440, 1.0, 0.5));
  std::string bytes;
  {
    std::ifstream is(tmp / "full.wav", std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(is), {});
  }
  write_bytes(tmp / "truncated.wav", bytes.substr(0, bytes.size() / 2));
  expect_error(tmp / "truncated.wav", kDecode, {"truncated"});

  write_audio(tmp / "zero.wav", SF_FORMAT_WAV | SF_FORMAT_PCM_16, 16000, 1, {});
  expect_error(tmp / "zero.wav", kDecode, {"no audio samples"});

  std::vector<float> nan = tone(16000, 440, 0.1, 0.5);
  nan[700] = std::numeric_limits<float>::quiet_NaN();
  write_audio(tmp / "nan.wav", SF_FORMAT_WAV | SF_FORMAT_FLOAT, 16000, 1, nan);
  expect_error(tmp / "nan.wav", kDecode, {"NaN", "700"});
  std::vector<float> inf = tone(16000, 440, 0.1, 0.5);
  inf[3] = std::numeric_limits<float>::infinity();
  write_audio(tmp / "inf.wav", SF_FORMAT_WAV | SF_FORMAT_FLOAT, 16000, 1, inf);
  expect_error(tmp / "inf.wav", kDecode, {"infinite"});
}

}  // namespace
}  // namespace featpipe::test
