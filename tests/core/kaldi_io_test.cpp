// featpipe/kaldi_io.hpp byte for byte against Kaldi's binary format
// (kaldi-matrix.cc MatrixBase::Write, io-funcs WriteToken/WriteBasicType,
// kaldi-io InitKaldiOutputStream): "\0B", the token "FM ", each int32
// preceded by its size (the byte 4), little-endian, then row-major float32.
#include "test_support.hpp"

#include <featpipe/kaldi_io.hpp>

#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <sstream>

using namespace featpipe;

namespace {

std::string le32(int32_t v) {
  std::string s(4, '\0');
  for (int k = 0; k < 4; ++k) s[k] = static_cast<char>((static_cast<uint32_t>(v) >> (8 * k)) & 0xFF);
  return s;
}

std::string le_float(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return le32(static_cast<int32_t>(u));
}

}  // namespace

TEST(KaldiIo, MatrixHeaderIsKaldisBinaryFloatMatrix) {
  const std::string h = kaldi::matrix_header(3, 80);
  const std::string want = std::string("\0B", 2) + "FM " + "\x04" + le32(3) + "\x04" + le32(80);
  EXPECT_EQ(h, want);
  EXPECT_EQ(h.size(), 15u);
  // Sizes past 255 use every byte, least significant first.
  EXPECT_EQ(kaldi::matrix_header(0x01020304, 1).substr(6, 4), std::string("\x04\x03\x02\x01", 4));
  // Kaldi has no 0 x N matrix: an empty one is 0 x 0.
  EXPECT_EQ(kaldi::matrix_header(0, 80), kaldi::matrix_header(0, 0));
  EXPECT_THROW(kaldi::matrix_header(int64_t{1} << 31, 1), std::runtime_error);
}

TEST(KaldiIo, MatrixBytesAreHeaderThenRowMajorFloats) {
  const std::vector<float> d = {1.5f, -2.0f, 3.25f, 1e-30f, 0.0f, -0.0f};
  std::ostringstream os;
  kaldi::write_matrix(os, d.data(), 2, 3);
  std::string want = kaldi::matrix_header(2, 3);
  for (float f : d) want += le_float(f);
  EXPECT_EQ(os.str(), want);
  std::istringstream is(os.str());
  kaldi::Matrix m = kaldi::read_matrix(is);
  EXPECT_EQ(m.rows, 2);
  EXPECT_EQ(m.cols, 3);
  ASSERT_EQ(m.data.size(), d.size());
  EXPECT_EQ(std::memcmp(m.data.data(), d.data(), d.size() * 4), 0);  // bit-exact, -0.0 included
}

TEST(KaldiIo, ReadsDoubleMatricesAndRefusesCompressedAndText) {
  std::string dm = std::string("\0B", 2) + "DM " + "\x04" + le32(1) + "\x04" + le32(2);
  for (double v : {0.25, -4.0}) dm.append(reinterpret_cast<const char*>(&v), 8);
  std::istringstream is(dm);
  EXPECT_EQ(kaldi::read_matrix(is).data, (std::vector<float>{0.25f, -4.0f}));

  auto refusal = [](const std::string& bytes) {
    std::istringstream s(bytes);
    try {
      kaldi::read_matrix(s);
    } catch (const std::runtime_error& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  EXPECT_NE(refusal(std::string("\0BCM ", 5) + std::string(40, '\0')).find("compressed"), std::string::npos);
  EXPECT_NE(refusal(" [ 1 2 ]\n").find("binary marker"), std::string::npos);
  EXPECT_NE(refusal(kaldi::matrix_header(2, 2) + "abc").find("truncated data"), std::string::npos);
  // A header claiming 2^60 values over 8 bytes of data: refused as
  // truncated, without allocating what it claims.
  EXPECT_NE(refusal(kaldi::matrix_header(1 << 30, 1 << 30) + "12345678").find("truncated data"), std::string::npos);
  EXPECT_NE(refusal(std::string("\0BFM \x08", 6) + le32(1)).find("size byte 4"), std::string::npos);
}

TEST(KaldiIo, ArkReaderWalksEntriesAndScpLinesPointAtTheirMatrices) {
  test::TempDir dir;
  const std::vector<float> a = {1, 2, 3, 4}, b = {9};
  std::string ark;
  ark += "a ";
  const size_t at_a = ark.size();
  {
    std::ostringstream os;
    kaldi::write_matrix(os, a.data(), 2, 2);
    ark += os.str();
  }
  ark += "utt-b ";
  const size_t at_b = ark.size();
  {
    std::ostringstream os;
    kaldi::write_matrix(os, b.data(), 1, 1);
    ark += os.str();
  }
  {
    std::ofstream f(dir / "x.ark", std::ios::binary);
    f << ark;
  }
  // Relative arks resolve against the scp's folder.
  test::write_text(dir / "x.scp", "a x.ark:" + std::to_string(at_a) + "\nutt-b " + (dir / "x.ark").string() + ":" +
                                      std::to_string(at_b) + "\n");
  auto scp = kaldi::read_scp((dir / "x.scp").string());
  ASSERT_EQ(scp.size(), 2u);
  EXPECT_EQ(scp[0].key, "a");
  EXPECT_EQ(scp[0].ark, (dir / "x.ark").string());
  EXPECT_EQ(kaldi::read_at(scp[0].ark, scp[0].offset).data, a);
  EXPECT_EQ(kaldi::read_at(scp[1].ark, scp[1].offset).data, b);

  std::istringstream is(ark);
  kaldi::ArkReader reader(is);
  std::string key;
  int64_t offset = 0, rows = 0, cols = 0;
  ASSERT_TRUE(reader.skip(key, offset, rows, cols));
  EXPECT_EQ(key, "a");
  EXPECT_EQ(offset, static_cast<int64_t>(at_a));
  EXPECT_EQ(rows, 2);
  kaldi::Matrix m;
  ASSERT_TRUE(reader.next(key, m));
  EXPECT_EQ(key, "utt-b");
  EXPECT_EQ(m.data, b);
  EXPECT_FALSE(reader.next(key, m));

  // Walking without reading: a last entry cut short is caught, not taken
  // for the end of the archive.
  std::istringstream cut(ark.substr(0, ark.size() - 2));
  kaldi::ArkReader skipper(cut);
  ASSERT_TRUE(skipper.skip(key, offset, rows, cols));
  EXPECT_THROW(skipper.skip(key, offset, rows, cols), std::runtime_error);
  // Sizes whose byte count overflows 64 bits (found by fuzz_kaldi_ark).
  std::istringstream huge("k " + std::string("\0BDM \x04", 6) + le32(0x7FFFFFFF) + "\x04" + le32(0x7FFFFFFF));
  kaldi::ArkReader huge_reader(huge);
  EXPECT_THROW(huge_reader.skip(key, offset, rows, cols), std::runtime_error);

  test::write_text(dir / "bad.scp", "a x.ark\n");
  EXPECT_THROW(kaldi::read_scp((dir / "bad.scp").string()), std::runtime_error);
}

TEST(KaldiIo, RxfilenameSplitsAtTheLastColonBeforeDigits) {
  std::string ark;
  int64_t off = -1;
  ASSERT_TRUE(kaldi::split_rxfilename("/d/a:b/feats.ark:1234", ark, off));
  EXPECT_EQ(ark, "/d/a:b/feats.ark");
  EXPECT_EQ(off, 1234);
  EXPECT_FALSE(kaldi::split_rxfilename("feats.ark", ark, off));
  EXPECT_FALSE(kaldi::split_rxfilename("feats.ark:12x", ark, off));
  EXPECT_FALSE(kaldi::split_rxfilename("feats.ark:", ark, off));
}
