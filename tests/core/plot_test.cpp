// `featpipe plot`: a 2-D array as a spectrogram-like image, a 3-D one as
// tiled channels; a broken file is a clear error.
#include "test_support.hpp"

#include <gtest/gtest.h>

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
