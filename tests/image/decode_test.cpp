// image.decode: formats, colour modes, 16-bit, alpha, EXIF orientation,
// in-memory frames, and bad files through `featpipe run`.
#include "image_support.hpp"

#include <gtest/gtest.h>

#include <sstream>

namespace featpipe::test {
namespace {

const std::string kDecodeRgb = "  - use: image.decode\n    with: {color: rgb}\n";

Tensor decode(const std::string& file, const std::string& with = "{color: rgb}") {
  return run_steps_on_file("  - use: image.decode\n    with: " + with + "\n", image_data() / file);
}

// pixels_17x23.npy: [17, 23, 3] uint8, the source of pixels.{png,bmp,tif,webp}.
std::vector<float> pixel_planes(double scale) {
  npy::Array a = npy::read((image_data() / "pixels_17x23.npy").string());
  std::vector<float> out(a.data.size());
  const size_t n = 17 * 23;
  for (size_t p = 0; p < n; ++p)
    for (size_t c = 0; c < 3; ++c) out[c * n + p] = static_cast<float>(a.data[p * 3 + c] / scale);
  return out;
}

TEST(ImageDecode, BgrAndScale) {
  std::vector<float> rgb = pixel_planes(1.0);
  Tensor bgr = decode("pixels.png", "{color: bgr, scale: 1}");
  ASSERT_EQ(bgr.shape, (std::vector<int64_t>{3, 17, 23}));
  const size_t n = 17 * 23;
  for (size_t p = 0; p < n; ++p) {
    ASSERT_EQ(bgr.data[p], rgb[2 * n + p]);
    ASSERT_EQ(bgr.data[n + p], rgb[n + p]);
    ASSERT_EQ(bgr.data[2 * n + p], rgb[p]);
  }
}

TEST(ImageDecode, GrayFromColorUsesLumaWeights) {
  std::vector<float> rgb = pixel_planes(255.0);
  Tensor g = decode("pixels.bmp", "{color: gray}");
  ASSERT_EQ(g.shape, (std::vector<int64_t>{1, 17, 23}));
  const size_t n = 17 * 23;
  for (size_t p = 0; p < n; ++p)
    ASSERT_NEAR(g.data[p], 0.299 * rgb[p] + 0.587 * rgb[n + p] + 0.114 * rgb[2 * n + p], 1e-6);
}

TEST(ImageDecode, Gray16ScaledBy65535) {
  npy::Array src = npy::read((image_data() / "rgb16.npy").string());  // [30, 40, 3]
  Tensor g = decode("gray16.png", "{color: gray}");
  ASSERT_EQ(g.shape, (std::vector<int64_t>{1, 30, 40}));
  for (size_t p = 0; p < 30 * 40; ++p) ASSERT_FLOAT_EQ(g.data[p], static_cast<float>(src.data[p * 3 + 1] / 65535.0));
  Tensor rgb = decode("gray16.png");  // gray file as rgb: replicated
  ASSERT_EQ(rgb.shape, (std::vector<int64_t>{3, 30, 40}));
  for (size_t p = 0; p < 30 * 40; ++p) ASSERT_EQ(rgb.data[2 * 1200 + p], g.data[p]);
}

TEST(ImageDecode, AlphaIsDropped) {
  // rgba.png's alpha goes from 0 (left) to 255 (right); PIL's convert("RGB")
  // keeps the colour untouched: the left column is not black.
  Tensor t = decode("rgba.png");
  ASSERT_EQ(t.shape, (std::vector<int64_t>{3, 44, 60}));
  double left = 0;
  for (int y = 0; y < 44; ++y) left += t.data[static_cast<size_t>(y) * 60];
  EXPECT_GT(left / 44, 0.1);
}

TEST(ImageDecode, ExifOrientationIgnoredAsPil) {
  // Stored 40 wide, 20 high, with orientation 6 (display rotated 90°):
  // pixels come out as stored, as PIL/torchvision load them.
  Tensor t = decode("exif_rot6.jpg");
  EXPECT_EQ(t.shape, (std::vector<int64_t>{3, 20, 40}));
}

TEST(ImageDecode, InMemoryFrameMatchesFile) {
  // A camera frame [channel, height, width] of 0..255 values, with scale 255.
  std::vector<float> frame = pixel_planes(1.0);
  Tensor file = decode("pixels.png");
  Tensor mem = run_steps_on_tensor("  - use: image.decode\n    with: {color: rgb, scale: 255}\n",
                                   {"channel", "height", "width"}, {3, 17, 23}, frame);
  ASSERT_EQ(mem.shape, file.shape);
  EXPECT_LE(max_abs_diff(mem.data, file.data), 1e-7);
  // RGBA frame: alpha dropped; gray conversion as for files.
  std::vector<float> rgba = frame;
  rgba.insert(rgba.end(), 17 * 23, 128.0f);
  Tensor g = run_steps_on_tensor("  - use: image.decode\n    with: {color: gray, scale: 255}\n",
                                 {"channel", "height", "width"}, {4, 17, 23}, rgba);
  Tensor gf = decode("pixels.png", "{color: gray}");
  ASSERT_EQ(g.shape, gf.shape);
  EXPECT_LE(max_abs_diff(g.data, gf.data), 1e-6);
}

TEST(ImageDecode, BadFilesFailAloneWithClearErrors) {
  TempDir tmp;
  write_text(tmp / "p.yaml", "featpipe: 1\nname: decode\nstages:\n" + kDecodeRgb);
  const fs::path d = image_data();
  std::vector<std::string> args = {"run", (tmp / "p.yaml").string()};
  for (const char* f : {"bad_truncated.jpg", "bad_truncated.png", "bad_empty.png", "bad_notimage.jpg",
                        "bad_bomb.png", "bad_bomb.jpg", "photo_small.png", "pixels.webp"})
    args.push_back((d / f).string());
  args.insert(args.end(), {"-o", (tmp / "out").string()});
  CmdResult r = run_cli(args);
  EXPECT_EQ(r.exit_code, 1) << r.err;
  // Each bad file named, with its reason.
  const std::pair<const char*, const char*> expect[] = {
      {"bad_truncated.jpg", "truncated"}, {"bad_truncated.png", "cannot decode PNG"},
      {"bad_empty.png", "empty file"},    {"bad_notimage.jpg", "not an image"},
      {"bad_bomb.png", "100000x100000"},  {"bad_bomb.jpg", "65000x65000"}};
  for (auto [file, why] : expect) {
    bool found = false;
    std::istringstream lines(r.err);
    for (std::string line; std::getline(lines, line);)
      if (line.find(file) != std::string::npos && line.find(why) != std::string::npos) found = true;
    EXPECT_TRUE(found) << "no stderr line naming " << file << " with '" << why << "':\n" << r.err;
  }
  // The good files were written.
  EXPECT_TRUE(fs::exists(tmp / "out/photo_small.png.npy"));
  EXPECT_TRUE(fs::exists(tmp / "out/pixels.webp.npy"));
  EXPECT_FALSE(fs::exists(tmp / "out/bad_bomb.png.npy"));
  std::string manifest = read_text(tmp / "out/manifest.jsonl");
  size_t errors = 0;
  for (size_t p = 0; (p = manifest.find("\"status\":\"error\"", p)) != std::string::npos; ++p) ++errors;
  EXPECT_EQ(errors, 6u) << manifest;
}

// A 1 GB limit on what the CLI may allocate. AddressSanitizer reserves
// terabytes of address space for its shadow, so under it `ulimit -v` would
// stop the CLI from starting: there ASan's own cap on one allocation stands
// in (a bigger request then fails as bad_alloc, "out of memory").
std::string memory_limit_1gb() {
#if defined(__SANITIZE_ADDRESS__)
  return "ASAN_OPTIONS=\"${ASAN_OPTIONS:+$ASAN_OPTIONS:}max_allocation_size_mb=1000:allocator_may_return_null=1\" ";
#else
  return "ulimit -v 1000000; ";
#endif
}

TEST(ImageDecode, DecompressionBombNeedsNoMemory) {
  // Headers claiming 100000x100000 (30 GB as RGB float: 120 GB) are refused
  // from the header, inside a 1 GB address-space limit.
  TempDir tmp;
  write_text(tmp / "p.yaml", "featpipe: 1\nname: decode\nstages:\n" + kDecodeRgb);
  CmdResult r = run_shell(memory_limit_1gb() + quote(FEATPIPE_CLI) + " run " + quote((tmp / "p.yaml").string()) +
                          " " + quote((image_data() / "bad_bomb.png").string()) + " " +
                          quote((image_data() / "bad_bomb.jpg").string()) + " " +
                          quote((image_data() / "photo_land.jpg").string()) + " -o " + quote((tmp / "out").string()));
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("decompression bomb"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("out of memory"), std::string::npos) << r.err;
  EXPECT_TRUE(fs::exists(tmp / "out/photo_land.jpg.npy"));
}

TEST(ImageDecode, MaxPixelsIsAParameter) {
  try {
    decode("photo_land.jpg", "{color: rgb, max_pixels: 1000}");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("301x199"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace featpipe::test
