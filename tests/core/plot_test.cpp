// `featpipe plot`: a 2-D array as a spectrogram-like image, a 3-D one as
// tiled channels; a broken file is a clear error; a long array gives a
// bounded image; one outlier does not flatten the colors; a fixed range
// gives two arrays one color scale.
#include "test_support.hpp"

#include <featpipe/npy.hpp>
#include <gtest/gtest.h>

#include <opencv2/imgcodecs.hpp>

#include <fstream>

using namespace featpipe;

namespace {
// Width and height from a PNG's IHDR chunk.
std::pair<uint32_t, uint32_t> png_size(const fs::path& p) {
  const std::string b = test::read_text(p);
  EXPECT_GE(b.size(), 24u);
  EXPECT_EQ(b.substr(1, 3), "PNG");
  auto be32 = [&](size_t at) {
    return (uint32_t(uint8_t(b[at])) << 24) | (uint32_t(uint8_t(b[at + 1])) << 16) | (uint32_t(uint8_t(b[at + 2])) << 8) |
           uint32_t(uint8_t(b[at + 3]));
  };
  return {be32(16), be32(20)};
}
}  // namespace

TEST(Plot, SpectrogramAndFeatureMap) {
  test::TempDir dir;
  std::vector<float> spec(100 * 40);
  for (size_t k = 0; k < spec.size(); ++k) spec[k] = static_cast<float>(k % 40) - 0.01f * static_cast<float>(k / 40);
  test::write_npy(dir / "spec.npy", {100, 40}, spec);
  auto r = test::run_cli({"plot", (dir / "spec.npy").string(), "-o", (dir / "spec.png").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto [w, h] = png_size(dir / "spec.png");
  EXPECT_EQ(w * 40, h * 100);  // time (100 frames) runs along x, the 40 bins along y
  EXPECT_GE(w, 100u);

  test::write_npy(dir / "fmap.npy", {9, 8, 8}, std::vector<float>(9 * 64, 0.5f));
  r = test::run_cli({"plot", (dir / "fmap.npy").string(), "-o", (dir / "fmap.png").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto [fw, fh] = png_size(dir / "fmap.png");
  EXPECT_EQ(fw, fh);  // 9 channels: a 3 x 3 grid of 8 x 8 tiles

  test::write_text(dir / "bad.npy", "not an array");
  r = test::run_cli({"plot", (dir / "bad.npy").string(), "-o", (dir / "bad.png").string()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("bad.npy: not a .npy file"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(dir / "bad.png"));
}

// 1,000,000 frames x 128 bins: averaged in blocks of ceil(1e6 / 4096) = 245
// frames, so the image is 4082 x 128 pixels (the array is 512 MB; the image
// used to be 296 MB). The block means are what is shown: a ramp along time
// stays a ramp.
TEST(Plot, LongArrayGivesBoundedImage) {
  test::TempDir dir;
  const int64_t frames = 1000000, bins = 128;
  {
    std::ofstream os(dir / "long.npy", std::ios::binary);
    const std::string h = npy::header({frames, bins});
    os.write(h.data(), static_cast<std::streamsize>(h.size()));
    std::vector<float> row(bins);
    for (int64_t t = 0; t < frames; ++t) {
      std::fill(row.begin(), row.end(), static_cast<float>(t) / static_cast<float>(frames));
      os.write(reinterpret_cast<const char*>(row.data()), bins * 4);
    }
    ASSERT_TRUE(os.good());
  }
  auto r = test::run_cli({"plot", (dir / "long.npy").string(), "-o", (dir / "long.png").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto [w, h] = png_size(dir / "long.png");
  EXPECT_EQ(w, 4082u);
  EXPECT_EQ(h, 128u);
  EXPECT_LT(fs::file_size(dir / "long.png"), 4u << 20);
  const cv::Mat img = cv::imread((dir / "long.png").string(), cv::IMREAD_GRAYSCALE);
  ASSERT_FALSE(img.empty());
  // Viridis' luminance rises with the value: left dark, right bright, monotone along a row.
  EXPECT_LT(img.at<uint8_t>(64, 0) + 100, img.at<uint8_t>(64, 4081));
  for (int x = 100; x < 4082; x += 100) EXPECT_LE(img.at<uint8_t>(64, x - 100), img.at<uint8_t>(64, x)) << x;
}

// One 3e30 cell among values in [0, 1): with the default robust range the
// other cells keep their colors (within a step or two of viridis, from the
// percentiles moving by one cell); with --range minmax they collapse to one
// color, which is what the robust default avoids.
TEST(Plot, OutlierDoesNotFlattenTheColors) {
  test::TempDir dir;
  const int frames = 200, bins = 40;
  std::vector<float> x(frames * bins);
  for (int t = 0; t < frames; ++t)
    for (int b = 0; b < bins; ++b) x[t * bins + b] = static_cast<float>(t) / frames;
  test::write_npy(dir / "clean.npy", {frames, bins}, x);
  x[57 * bins + 13] = 3e30f;
  test::write_npy(dir / "outlier.npy", {frames, bins}, x);
  for (const char* name : {"clean", "outlier"})
    for (const char* range : {"robust", "minmax"}) {
      auto r = test::run_cli({"plot", (dir / (std::string(name) + ".npy")).string(), "-o",
                              (dir / (std::string(name) + "_" + range + ".png")).string(), "--range", range});
      ASSERT_EQ(r.exit_code, 0) << r.err;
    }
  auto load = [&](const std::string& n) { return cv::imread((dir / (n + ".png")).string(), cv::IMREAD_COLOR); };
  const cv::Mat clean = load("clean_robust"), outlier = load("outlier_robust"), flat = load("outlier_minmax");
  ASSERT_EQ(clean.size(), outlier.size());
  // Pixel columns near frame 57 hold the outlier cell: compare all but those.
  int worst = 0, flat_distinct = 0;
  std::vector<bool> seen(256 * 256 * 256 / 64, false);
  for (int y = 0; y < clean.rows; ++y)
    for (int xp = 0; xp < clean.cols; ++xp) {
      if (std::abs(xp * frames / clean.cols - 57) <= 1) continue;
      const auto a = clean.at<cv::Vec3b>(y, xp), b = outlier.at<cv::Vec3b>(y, xp);
      for (int c = 0; c < 3; ++c) worst = std::max(worst, std::abs(int(a[c]) - int(b[c])));
      const auto f = flat.at<cv::Vec3b>(y, xp);
      const int key = (f[0] >> 2) * 64 * 64 + (f[1] >> 2) * 64 + (f[2] >> 2);
      if (!seen[key]) seen[key] = true, ++flat_distinct;
    }
  EXPECT_LE(worst, 8);  // robust: the outlier moves the others' colors by a few levels at most
  EXPECT_EQ(flat_distinct, 1);  // min..max: every other cell maps to the bottom color

  auto r = test::run_cli({"plot", (dir / "clean.npy").string(), "-o", (dir / "x.png").string(), "--range", "p5"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
}

// A ramp 0..1 and the same ramp + 1: their own ranges (robust) give the same
// image; one fixed range 0:2 shows the shift, the first ramp's top color
// being the second's bottom one. Bad ranges are refused.
TEST(Plot, FixedRangeSharesOneColorScale) {
  test::TempDir dir;
  const int frames = 64, bins = 8;
  std::vector<float> low(frames * bins), high(frames * bins);
  for (int t = 0; t < frames; ++t)
    for (int b = 0; b < bins; ++b) low[t * bins + b] = static_cast<float>(t) / (frames - 1), high[t * bins + b] = low[t * bins + b] + 1;
  test::write_npy(dir / "low.npy", {frames, bins}, low);
  test::write_npy(dir / "high.npy", {frames, bins}, high);
  for (const char* name : {"low", "high"})
    for (const char* range : {"robust", "0:2"}) {
      auto r = test::run_cli({"plot", (dir / (std::string(name) + ".npy")).string(), "-o",
                              (dir / (std::string(name) + "_" + (range[0] == 'r' ? "own" : "fixed") + ".png")).string(),
                              "--range", range});
      ASSERT_EQ(r.exit_code, 0) << r.err;
      if (range[0] != 'r') EXPECT_NE(r.err.find("colors over 0 .. 2, as given"), std::string::npos) << r.err;
    }
  auto load = [&](const std::string& n) { return cv::imread((dir / (n + ".png")).string(), cv::IMREAD_COLOR); };
  const cv::Mat low_own = load("low_own"), high_own = load("high_own"), low_fixed = load("low_fixed"),
                high_fixed = load("high_fixed");
  ASSERT_EQ(low_own.size(), high_own.size());
  EXPECT_EQ(cv::norm(low_own, high_own, cv::NORM_INF), 0.0);
  const int y = low_fixed.rows / 2, last = low_fixed.cols - 1;
  auto diff = [](cv::Vec3b a, cv::Vec3b b) {
    return std::max({std::abs(a[0] - b[0]), std::abs(a[1] - b[1]), std::abs(a[2] - b[2])});
  };
  EXPECT_LE(diff(low_fixed.at<cv::Vec3b>(y, last), high_fixed.at<cv::Vec3b>(y, 0)), 2);  // both are the value 1
  EXPECT_GT(diff(low_fixed.at<cv::Vec3b>(y, 0), high_fixed.at<cv::Vec3b>(y, last)), 100);  // 0 and 2: the two ends
  EXPECT_EQ(diff(low_fixed.at<cv::Vec3b>(y, 0), low_own.at<cv::Vec3b>(y, 0)), 0);  // 0 is the bottom in both

  for (const char* bad : {"2:0", "1:1", "0:nan", "0:inf", "0:1x", ":1", "0:"}) {
    auto r = test::run_cli({"plot", (dir / "low.npy").string(), "-o", (dir / "bad.png").string(), "--range", bad});
    EXPECT_EQ(r.exit_code, 2) << bad << ": " << r.err;
    EXPECT_NE(r.err.find("LO:HI"), std::string::npos) << r.err;
  }
  EXPECT_FALSE(fs::exists(dir / "bad.png"));
  auto r = test::run_cli({"plot", (dir / "low.npy").string(), "-o", (dir / "neg.png").string(), "--range", "-1.5:-0.5"});
  EXPECT_EQ(r.exit_code, 0) << r.err;  // a negative LO is a value, not an option
}
