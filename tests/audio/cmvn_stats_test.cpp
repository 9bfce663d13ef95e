// norm.cmvn {stats: FILE}: global statistics written here in each format
// from its documented layout (Kaldi's binary and text matrices, alone and
// as a one-entry archive; WeNet's global_cmvn JSON), applied as Kaldi's
// apply-cmvn and WeNet's GlobalCMVN: y = (x − sum/N) / sqrt(sumsq/N − mean²).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <random>

#include "audio_support.hpp"

namespace featpipe::test {
namespace {

constexpr int64_t kDim = 5;

std::vector<float> random_features(int64_t frames, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> g(0.0f, 1.0f);
  std::vector<float> x(static_cast<size_t>(frames * kDim));
  for (int64_t t = 0; t < frames; ++t)
    for (int64_t f = 0; f < kDim; ++f) x[static_cast<size_t>(t * kDim + f)] = 3.0f * static_cast<float>(f) - 4.0f + (1.0f + static_cast<float>(f)) * g(rng);
  return x;
}

// compute-cmvn-stats' matrix: row 0 sums and the count, row 1 sums of squares.
std::vector<std::vector<double>> kaldi_stats(const std::vector<float>& x) {
  std::vector<std::vector<double>> m(2, std::vector<double>(kDim + 1, 0.0));
  const int64_t frames = static_cast<int64_t>(x.size()) / kDim;
  for (int64_t t = 0; t < frames; ++t)
    for (int64_t f = 0; f < kDim; ++f) {
      const double v = x[static_cast<size_t>(t * kDim + f)];
      m[0][static_cast<size_t>(f)] += v;
      m[1][static_cast<size_t>(f)] += v * v;
    }
  m[0][kDim] = static_cast<double>(frames);
  return m;
}

// Kaldi's binary matrix: "\0B", "DM " (or "FM "), then rows and cols each
// as a size byte (4) and an int32, then the values, little-endian.
std::string kaldi_binary(const std::vector<std::vector<double>>& m, bool as_float) {
  std::string b("\0B", 2);
  b += as_float ? "FM " : "DM ";
  for (int32_t d : {static_cast<int32_t>(m.size()), static_cast<int32_t>(m[0].size())}) {
    b += '\4';
    b.append(reinterpret_cast<const char*>(&d), 4);
  }
  for (const auto& row : m)
    for (double v : row) {
      if (as_float) {
        const float f = static_cast<float>(v);
        b.append(reinterpret_cast<const char*>(&f), 4);
      } else {
        b.append(reinterpret_cast<const char*>(&v), 8);
      }
    }
  return b;
}

// Kaldi's text matrix: " [\n  a b c \n  d e f ]\n".
std::string kaldi_text(const std::vector<std::vector<double>>& m) {
  std::string t = " [";
  char buf[64];
  for (const auto& row : m) {
    t += "\n  ";
    for (double v : row) {
      std::snprintf(buf, sizeof buf, "%.17g ", v);
      t += buf;
    }
  }
  return t + "]\n";
}

std::string wenet_json(const std::vector<std::vector<double>>& m) {
  std::string j = "{\"mean_stat\": [";
  char buf[64];
  for (int64_t f = 0; f < kDim; ++f) {
    std::snprintf(buf, sizeof buf, "%s%.17g", f ? ", " : "", m[0][static_cast<size_t>(f)]);
    j += buf;
  }
  j += "], \"var_stat\": [";
  for (int64_t f = 0; f < kDim; ++f) {
    std::snprintf(buf, sizeof buf, "%s%.17g", f ? ", " : "", m[1][static_cast<size_t>(f)]);
    j += buf;
  }
  std::snprintf(buf, sizeof buf, "], \"frame_num\": %.17g}\n", m[0][kDim]);
  return j + buf;
}

void write(const fs::path& p, const std::string& bytes) {
  std::ofstream os(p, std::ios::binary);
  os << bytes;
}

Tensor features(const std::vector<float>& x) {
  return tensor({static_cast<int64_t>(x.size()) / kDim, kDim}, {"frame", "mel"}, x);
}

Tensor apply_stats(const fs::path& stats, const std::vector<float>& x, const std::string& extra = "") {
  return run_tensor_steps("  - use: norm.cmvn\n    with: {stats: " + stats.string() + extra + "}\n", features(x), "frame");
}

std::string error_of(const fs::path& stats, const std::vector<float>& x, const std::string& extra = "") {
  try {
    apply_stats(stats, x, extra);
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

TEST(CmvnStats, EveryFormatGivesKaldisNormalization) {
  TempDir tmp;
  const std::vector<float> train = random_features(300, 1), x = random_features(40, 2);
  const auto m = kaldi_stats(train);
  write(tmp / "cmvn.ark", kaldi_binary(m, false));
  write(tmp / "cmvn_float.ark", kaldi_binary(m, true));
  write(tmp / "keyed.ark", "global " + kaldi_binary(m, false));
  write(tmp / "cmvn.txt", kaldi_text(m));
  write(tmp / "keyed.txt", "global" + kaldi_text(m));
  write(tmp / "global_cmvn", wenet_json(m));
  // The reference in double: apply-cmvn's mean and variance from the sums.
  std::vector<float> want(x.size()), means_only(x.size());
  for (int64_t f = 0; f < kDim; ++f) {
    const double n = m[0][kDim], mean = m[0][static_cast<size_t>(f)] / n;
    const double var = m[1][static_cast<size_t>(f)] / n - mean * mean;
    for (size_t t = 0; t < x.size() / kDim; ++t) {
      const size_t k = t * kDim + static_cast<size_t>(f);
      want[k] = static_cast<float>((x[k] - mean) / std::sqrt(var));
      means_only[k] = static_cast<float>(x[k] - mean);
    }
  }
  const Tensor ref = apply_stats(tmp / "cmvn.ark", x);
  ASSERT_EQ(ref.shape, (std::vector<int64_t>{40, kDim}));
  EXPECT_LE(max_abs_diff(ref.data, want), 1e-5 * std::max(1.0, max_abs(want)));
  EXPECT_GT(max_abs_diff(ref.data, x), 0.5) << "the statistics must change the features";
  // Doubles written with 17 digits read back exactly: the same bits.
  for (const char* f : {"keyed.ark", "cmvn.txt", "keyed.txt", "global_cmvn"}) EXPECT_EQ(apply_stats(tmp / f, x).data, ref.data) << f;
  // Float statistics: within float rounding of the sums.
  EXPECT_LE(max_abs_diff(apply_stats(tmp / "cmvn_float.ark", x).data, want), 1e-3);
  // Kaldi's apply-cmvn default (--norm-vars=false): means only.
  EXPECT_LE(max_abs_diff(apply_stats(tmp / "cmvn.ark", x, ", norm_vars: false").data, means_only), 1e-5 * max_abs(means_only));
}

TEST(CmvnStats, BadFilesAreRefusedByName) {
  TempDir tmp;
  const std::vector<float> x = random_features(10, 3);
  auto m = kaldi_stats(random_features(50, 4));
  auto expect = [&](const std::string& file, const std::string& bytes, const std::string& words,
                    const std::string& extra = "") {
    SCOPED_TRACE(file);
    write(tmp / file, bytes);
    const std::string e = error_of(tmp / file, x, extra);
    EXPECT_NE(e.find(file), std::string::npos) << e;
    EXPECT_NE(e.find(words), std::string::npos) << e;
  };
  auto three = m;
  three.push_back(m[1]);
  expect("three.ark", kaldi_binary(three, false), "2 × (dim + 1) matrix, got 3 × 6");
  expect("cut.ark", kaldi_binary(m, false).substr(0, 40), "truncated");
  expect("compressed.ark", std::string("\0BCM ", 5) + std::string(40, '\1'), "compressed");
  expect("two.ark", "a " + kaldi_binary(m, false) + "b " + kaldi_binary(m, false), "more than one matrix");
  auto empty = m;
  empty[0][kDim] = 0.0;
  expect("zero.txt", kaldi_text(empty), "frame count is 0");
  expect("bad.json", "{\"mean_stat\": [1, 2]}", "needs \"var_stat\"");
  expect("junk.txt", "hello world", "neither a Kaldi matrix");
  // Features of another size than the statistics.
  write(tmp / "ok.ark", kaldi_binary(m, false));
  const std::vector<float> four(40, 1.0f);
  try {
    run_tensor_steps("  - use: norm.cmvn\n    with: {stats: " + (tmp / "ok.ark").string() + "}\n",
                     tensor({10, 4}, {"frame", "mel"}, four), "frame");
    ADD_FAILURE() << "4 features accepted for statistics of 5";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("'ok.ark' have 5 features, the input 4"), std::string::npos) << e.what();
  }
  const std::string e = error_of(tmp / "ok.ark", x, ", window: 100");
  EXPECT_NE(e.find("use one of them"), std::string::npos) << e;
}

// Global statistics are frame-wise: any chunking gives one push's bits.
TEST(CmvnStats, Streams) {
  TempDir tmp;
  write(tmp / "cmvn.ark", kaldi_binary(kaldi_stats(random_features(100, 5)), false));
  const std::vector<float> x = random_features(64, 6);
  npy::Array in;
  in.shape = {64, kDim};
  in.data = x;
  sdk::Spec spec;
  spec.append("frame", -1);
  spec.append("mel", kDim);
  spec.set_stream_axis(0);
  AbiStage whole("norm.cmvn", {{"stats", (tmp / "cmvn.ark").string()}});
  whole.start(spec);
  const npy::Array ref = whole.run(in, 0, 0, 0);
  ASSERT_EQ(ref.shape, in.shape);
  for (int64_t chunk : {1, 5, 17}) {
    AbiStage st("norm.cmvn", {{"stats", (tmp / "cmvn.ark").string()}});
    st.start(spec);
    EXPECT_EQ(st.run(in, 0, chunk, 0).data, ref.data) << chunk;
  }
}

}  // namespace
}  // namespace featpipe::test
