// audio.mel's band matrix has an AVX-512 path (16 frames per block), an
// AVX2 path (8 frames) and a scalar one, chosen once per process
// (FEATPIPE_AUDIO_SIMD=scalar|avx2 forces the slower ones). Every path must
// give the same bits, and a frame's value must not depend on how frames are
// grouped into blocks and pushes (partial blocks go through the vector code
// with zero lanes).
#include <gtest/gtest.h>
#include <sndfile.h>

#include <random>

#include "audio_support.hpp"

namespace featpipe::test {
namespace {

// [frame, freq] power spectra with a wide dynamic range (exact sums are
// rare, so a different operation order would show).
npy::Array spectra(int64_t frames, int64_t bins, unsigned seed) {
  npy::Array a;
  a.shape = {frames, bins};
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-6.0f, 3.0f);
  a.data.resize(static_cast<size_t>(frames * bins));
  for (float& v : a.data) v = std::pow(10.0f, u(rng));
  return a;
}

sdk::Spec spec_of(int64_t bins) {
  sdk::Spec s;
  s.append("frame", -1);
  s.append("freq", bins);
  s.set_stream_axis(0);
  s.set_attr("sample_rate", 16000);
  return s;
}

// Pushes of every size from 1 to 40 frames (all block remainders), and odd
// shapes (n_mels and bins not multiples of 8 or 16): the bits of one push.
TEST(AudioSimd, MelRowGroupingInvariant) {
  struct Shape {
    int64_t bins;
    std::map<std::string, std::string> params;
  };
  for (const Shape& s : {Shape{257, {{"n_mels", "80"}}}, Shape{201, {{"n_mels", "23"}, {"norm", "slaney"}, {"mel_scale", "slaney"}}},
                         Shape{513, {{"n_mels", "128"}, {"f_min", "20"}}}, Shape{9, {{"n_mels", "3"}}}}) {
    SCOPED_TRACE("bins " + std::to_string(s.bins));
    const npy::Array x = spectra(203, s.bins, static_cast<unsigned>(s.bins));
    AbiStage whole("audio.mel", s.params);
    whole.start(spec_of(s.bins));
    const npy::Array ref = whole.run(x, 0, 0, 0);
    ASSERT_EQ(ref.shape.size(), 2u);
    ASSERT_EQ(ref.shape[0], 203);
    for (int64_t chunk = 1; chunk <= 40; ++chunk) {
      AbiStage st("audio.mel", s.params);
      st.start(spec_of(s.bins));
      const npy::Array got = st.run(x, 0, chunk, 0);
      ASSERT_EQ(got.shape, ref.shape);
      ASSERT_EQ(got.data, ref.data) << "chunk " << chunk << ", max diff " << max_abs_diff(got.data, ref.data);
    }
  }
}

// The same features through the scalar, AVX2 and default paths of separate
// processes: identical files.
TEST(AudioSimd, EveryPathGivesTheSameBits) {
  TempDir tmp;
  std::mt19937 rng(7);
  std::normal_distribution<float> g(0.0f, 0.1f);
  std::vector<float> x(16000 * 3 + 123);
  for (float& v : x) v = std::clamp(g(rng), -1.0f, 1.0f);
  fs::create_directories(tmp / "in");
  write_audio(tmp / "in" / "noise.wav", SF_FORMAT_WAV | SF_FORMAT_FLOAT, 16000, 1, x);
  write_text(tmp / "p.yaml",
             "featpipe: 1\nname: simd\nstages:\n  - use: audio.decode\n  - use: audio.stft\n"
             "    with: {n_fft: 400, hop_length: 160}\n  - use: audio.mel\n    with: {n_mels: 40, norm: slaney}\n");
  std::vector<npy::Array> outs;
  for (const char* path : {"scalar", "avx2", "default"}) {
    SCOPED_TRACE(path);
    const fs::path out = tmp / path;
    const auto r = run_shell("FEATPIPE_AUDIO_SIMD=" + std::string(path) + " " + quote(FEATPIPE_CLI) + " run " +
                             quote((tmp / "p.yaml").string()) + " " + quote((tmp / "in").string()) + " -o " +
                             quote(out.string()) + " -q");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    outs.push_back(npy::read((out / "noise.wav.npy").string()));
    ASSERT_EQ(outs.back().shape, (std::vector<int64_t>{1 + 48123 / 160, 40}));
  }
  EXPECT_EQ(outs[0].data, outs[1].data) << "avx2 vs scalar, max diff " << max_abs_diff(outs[0].data, outs[1].data);
  EXPECT_EQ(outs[0].data, outs[2].data) << "default vs scalar, max diff " << max_abs_diff(outs[0].data, outs[2].data);
}

}  // namespace
}  // namespace featpipe::test
