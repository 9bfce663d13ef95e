// Resource bounds of image.resize: the output (and each pass's intermediate)
// is sized from the data, so a 138-byte 1x20000 PNG with `size: 256` asked
// for 256x5120000 pixels (57 s, 15.6 GB). Refused by max_pixels before
// anything is allocated.
#include <gtest/gtest.h>

#include "image_support.hpp"

namespace featpipe::test {
namespace {

// A gray 8-bit PNG of width x height, made with python's zlib (the file is a
// few hundred bytes: rows of one repeated value compress well).
void write_png(const fs::path& p, int width, int height) {
  const std::string code =
      "import struct,sys,zlib\n"
      "w,h=int(sys.argv[2]),int(sys.argv[3])\n"
      "def chunk(t,d): return struct.pack('>I',len(d))+t+d+struct.pack('>I',zlib.crc32(t+d))\n"
      "raw=(b'\\x00'+b'\\x80'*w)*h\n"
      "png=b'\\x89PNG\\r\\n\\x1a\\n'+chunk(b'IHDR',struct.pack('>IIBBBBB',w,h,8,0,0,0,0))"
      "+chunk(b'IDAT',zlib.compress(raw,9))+chunk(b'IEND',b'')\n"
      "open(sys.argv[1],'wb').write(png)\n";
  const CmdResult r = run_shell(quote(python()) + " -c " + quote(code) + " " + quote(p.string()) + " " +
                                std::to_string(width) + " " + std::to_string(height));
  ASSERT_EQ(r.exit_code, 0) << r.err;
}

std::string resize_error(const std::string& with, int64_t h, int64_t w) {
  try {
    run_steps_on_tensor("  - use: image.resize\n    with: " + with + "\n", {"height", "width"}, {h, w},
                        std::vector<float>(static_cast<size_t>(h * w), 0.5f));
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(ImageBounds, ResizeRefusesOutputsOverMaxPixels) {
  EXPECT_NE(resize_error("{size: 256}", 1, 20000)
                .find("image.resize: resizing 1x20000 to 256x5120000 would make 1310720000 pixels, over max_pixels "
                      "(178956970)"),
            std::string::npos)
      << resize_error("{size: 256}", 1, 20000);
  // The limit is a parameter: just at it passes, one pixel over fails.
  EXPECT_EQ(resize_error("{size: 4, max_pixels: 32}", 1, 2), "");
  EXPECT_NE(resize_error("{size: 4, max_pixels: 31}", 1, 2).find("to 4x8 would make 32 pixels, over max_pixels (31)"),
            std::string::npos);
  // A small output whose first pass would be huge: [height 2000, width 1]
  // from 1x200000 goes through 2000x200000.
  EXPECT_NE(resize_error("{size: [2000, 1]}", 1, 200000).find("needs an intermediate pass over max_pixels"),
            std::string::npos);
  // An explicit [h, w] over the limit is a pipeline error, at load time.
  EXPECT_NE(resize_error("{size: [20000, 20000]}", 2, 2).find("size 20000x20000 is over max_pixels (178956970)"),
            std::string::npos);
}

// A header claiming 4294967295x4294967295: the pixel count passes int64's
// range, and is still refused as too many (fuzz_image_decode found the
// product overflowing).
TEST(ImageBounds, HeaderSizesPastInt64AreRefusedAsTooMany) {
  TempDir tmp;
  const std::string code =
      "import struct,sys,zlib\n"
      "def chunk(t,d): return struct.pack('>I',len(d))+t+d+struct.pack('>I',zlib.crc32(t+d))\n"
      "png=b'\\x89PNG\\r\\n\\x1a\\n'+chunk(b'IHDR',struct.pack('>IIBBBBB',2**32-1,2**32-1,8,0,0,0,0))"
      "+chunk(b'IDAT',zlib.compress(b'\\x00'*64))+chunk(b'IEND',b'')\n"
      "open(sys.argv[1],'wb').write(png)\n";
  ASSERT_EQ(run_shell(quote(python()) + " -c " + quote(code) + " " + quote((tmp / "huge.png").string())).exit_code, 0);
  write_text(tmp / "p.yaml", "featpipe: 1\nname: decode\nstages:\n  - use: image.decode\n");
  CmdResult r = run_cli({"run", (tmp / "p.yaml").string(), (tmp / "huge.png").string(), "-o", (tmp / "out").string(), "-q"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("header claims 4294967295x4294967295 = 18446744065119617025 pixels, more than max_pixels"),
            std::string::npos)
      << r.err;
}

// The reported case through the CLI and the embedding pipeline: the thin
// PNG fails alone, the good image is written, exit 1.
TEST(ImageBounds, ThinPngFailsAloneInTheEmbeddingPipeline) {
  TempDir in, out;
  write_png(in / "thin.png", 20000, 1);
  ASSERT_LT(fs::file_size(in / "thin.png"), 1000u);
  fs::copy_file(source_dir() / "samples/images/chelsea.jpg", in / "chelsea.jpg");
  const CmdResult r = run_cli({"run", (source_dir() / "pipelines/image-embedding.yaml").string(), in.path().string(),
                               "-o", out.path().string()});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_TRUE(fs::exists(out / "chelsea.jpg.npy"));
  EXPECT_FALSE(fs::exists(out / "thin.png.npy"));
  EXPECT_NE(r.err.find("thin.png"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("over max_pixels"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace featpipe::test
