// The .npy writer and reader (featpipe/npy.hpp).
#include "test_support.hpp"

#include <gtest/gtest.h>

#include <sstream>

using namespace featpipe;

TEST(Npy, HeaderIsVersion1LittleEndianFloat32AlignedTo64) {
  for (auto shape : std::vector<std::vector<int64_t>>{{3}, {2, 5}, {1, 2, 3, 4}, {0, 80}}) {
    std::string h = npy::header(shape);
    EXPECT_EQ(h.size() % 64, 0u);
    EXPECT_EQ(h.substr(0, 8), std::string("\x93NUMPY\x01\x00", 8));
    EXPECT_NE(h.find("'descr': '<f4', 'fortran_order': False"), std::string::npos);
    EXPECT_EQ(h.back(), '\n');
  }
  EXPECT_NE(npy::header({3}).find("'shape': (3,)"), std::string::npos);
  EXPECT_NE(npy::header({2, 5}).find("'shape': (2, 5)"), std::string::npos);
}

TEST(Npy, RoundTrip) {
  test::TempDir dir;
  std::vector<float> v = {1.5f, -2, 3e-38f, 3e38f, 0, -0.0f};
  test::write_npy(dir / "a.npy", {2, 3}, v);
  npy::Array a = npy::read((dir / "a.npy").string());
  EXPECT_EQ(a.shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(a.data, v);
}

TEST(Npy, BrokenFilesSayWhatIsWrong) {
  test::TempDir dir;
  test::write_text(dir / "empty.npy", "");
  test::write_text(dir / "text.npy", "hello, this is text and not an array");
  test::write_npy(dir / "full.npy", {4, 4}, std::vector<float>(16, 1.0f));
  std::string full = test::read_text(dir / "full.npy");
  test::write_text(dir / "trunc.npy", full.substr(0, full.size() - 10));
  auto err = [&](const char* f) {
    try {
      npy::read((dir / f).string());
    } catch (const std::exception& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  EXPECT_EQ(err("empty.npy"), "file too short to be a .npy array");
  EXPECT_EQ(err("text.npy"), "not a .npy file (bad magic)");
  EXPECT_EQ(err("trunc.npy").rfind("truncated data: expected 64 bytes", 0), 0u) << err("trunc.npy");
  EXPECT_EQ(err("missing.npy"), "cannot open file");
}

// Hand-made headers: what a broken or hostile file claims must not make the
// reader allocate it, wrap around, or fail with a bare library message.
TEST(Npy, HeadersThatLie) {
  test::TempDir dir;
  auto with_shape = [&](const std::string& name, const std::string& shape) {
    std::string dict = "{'descr': '<f4', 'fortran_order': False, 'shape': " + shape + ", }";
    dict.append(64 - (10 + dict.size() + 1) % 64, ' ');
    dict += '\n';
    std::string h("\x93NUMPY\x01\x00", 8);
    h += static_cast<char>(dict.size() & 0xff);
    h += static_cast<char>(dict.size() >> 8);
    test::write_text(dir / name, h + dict + std::string(16, '\0'));
    try {
      npy::read((dir / name).string());
    } catch (const std::exception& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  // 64 GiB promised, 16 bytes present: refused before any allocation.
  EXPECT_EQ(with_shape("huge.npy", "(4096, 4096, 1024)").rfind("truncated data: expected 68719476736 bytes", 0), 0u);
  EXPECT_EQ(with_shape("wrap.npy", "(4294967296, 4294967296, 16)").rfind("array too large", 0), 0u);
  EXPECT_EQ(with_shape("text.npy", "(3, x)").rfind("malformed .npy shape", 0), 0u);
  EXPECT_EQ(with_shape("ok.npy", "(2, 2)"), "");
}
