// The .npy writer and reader (featpipe/npy.hpp).
#include "test_support.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <sstream>

using namespace featpipe;
namespace fs = std::filesystem;

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

namespace {

// A .npy file with `dict` as its header (padded as numpy pads) and `data`.
std::string npy_file(const std::string& dict, const std::string& data) {
  std::string d = dict;
  while ((10 + d.size() + 1) % 64) d += ' ';
  d += '\n';
  return std::string("\x93NUMPY\x01\x00", 8) + char(d.size() & 0xff) + char(d.size() >> 8) + d + data;
}

std::string read_error(const fs::path& p) {
  try {
    npy::read(p.string());
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

}  // namespace

// numpy reads the header as a Python literal and checks its keys and types;
// so does featpipe, rather than picking values out of the text.
TEST(Npy, HeaderIsReadStrictly) {
  test::TempDir dir;
  struct Case {
    const char* dict;
    const char* error;  // prefix of the message; "" when it reads
  };
  const std::string f4x3(12, '\0');
  for (const Case& c : std::initializer_list<Case>{
           {"{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", ""},
           {"{\"descr\":'<f4','fortran_order':False,'shape':(3,)}", ""},
           {"{'shape': (3,), 'fortran_order': False, 'descr': '<f4'}", ""},
           {"{'descr': '<f4', 'fortran_order': False, 'shape': (1, 3,), }", ""},
           {"{'descr': '<f4', 'fortran_order': False, 'shape': 12, }", "malformed .npy shape 12: 'shape' must be a tuple"},
           {"{'descr': '<f4', 'fortran_order': False, 'shape': (3), }", "malformed .npy shape (3): (n) is the integer n"},
           {"{'descr': '<f4', 'fortran_order': False, 'shape': (-3,), }", "malformed .npy shape (-3,): dimensions are"},
           {"{'descr': '<f4', 'fortran_order': False, 'shape': (03,), }", "malformed .npy shape (03,)"},
           {"{'descr': '<f4', 'fortran_order': False, 'shape': (3 1,), }", "malformed .npy shape (3 1,): a tuple of"},
           {"{'descr': '<f4', 'fortran_order': False, 'shape': [3], }", "malformed .npy shape [3]"},
           {"{'descr': '<f4', 'fortran_order': False, }", "npy header has no 'shape'"},
           {"{'descr': '<f4', 'shape': (3,), }", "npy header has no 'fortran_order'"},
           {"{'fortran_order': False, 'shape': (3,), }", "npy header has no 'descr'"},
           {"{'descr': '<f4', 'fortran_order': False, 'shape': (3,), 'extra': 1}",
            "malformed .npy header: unknown key 'extra'"},
           {"{'descr': '<f4', 'descr': '<i4', 'fortran_order': False, 'shape': (3,)}",
            "malformed .npy header: key 'descr' given twice"},
           {"{'descr': '<f4', 'fortran_order': Truely, 'shape': (3,)}", "malformed .npy header: 'fortran_order' must be True"},
           {"{'descr': '<f4', 'fortran_order': 1, 'shape': (3,)}", "malformed .npy header: 'fortran_order' must be True"},
           {"{'descr': '<f4', 'fortran_order': False, 'shape': (3,)} junk", "malformed .npy header: text after"},
           {"{'descr': '<f4', 'fortran_order': False 'shape': (3,)}", "malformed .npy header: expected ','"},
           {"{'descr': <f4, 'fortran_order': False, 'shape': (3,)}", "malformed .npy header: expected a quoted string"},
           {"{'descr': 'float32', 'fortran_order': False, 'shape': (3,)}", "unsupported dtype 'float32'"},
           {"{'descr': '<f4x', 'fortran_order': False, 'shape': (3,)}", "unsupported dtype '<f4x'"},
           {"{'descr': '<f', 'fortran_order': False, 'shape': (3,)}", "unsupported dtype '<f'"},
           {"{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (3,)}", "unsupported dtype: structured"},
       }) {
    SCOPED_TRACE(c.dict);
    test::write_text(dir / "a.npy", npy_file(c.dict, f4x3));
    const std::string e = read_error(dir / "a.npy");
    if (!*c.error) EXPECT_EQ(e, "");
    else EXPECT_EQ(e.rfind(c.error, 0), 0u) << e;
  }
}

// Headers cut short inside a token (found by fuzz/npy_fuzz.cpp: the reader
// looked one character past the header; ASan builds catch that).
TEST(Npy, HeaderEndingInsideAToken) {
  test::TempDir dir;
  for (const std::string dict : {"{'descr': '<f4', 'shape': (3,), 'fortran_order': Fa",
                                 "{'descr': '<f4', 'shape': (3,), 'fortran_order': ",
                                 "{'descr': '<f4', 'shape': (3", "{'descr': '<f"}) {
    SCOPED_TRACE(dict);
    test::write_text(dir / "cut.npy", std::string("\x93NUMPY\x01\x00", 8) + char(dict.size()) + '\0' + dict);
    EXPECT_EQ(read_error(dir / "cut.npy").rfind("malformed .npy", 0), 0u) << read_error(dir / "cut.npy");
  }
}

TEST(Npy, SizesMustAgreeWithTheFile) {
  test::TempDir dir;
  const std::string dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }";
  test::write_text(dir / "trailing.npy", npy_file(dict, std::string(16 + 3, '\0')));
  EXPECT_EQ(read_error(dir / "trailing.npy"),
            "trailing data: shape (2, 2) of '<f4' is 16 bytes, the file holds 19 after the header");
  test::write_text(dir / "short.npy", npy_file(dict, std::string(15, '\0')));
  EXPECT_EQ(read_error(dir / "short.npy"), "truncated data: expected 16 bytes for shape (2, 2), the file holds 15");
  // A header length past the end of the file (60000 of 134 bytes).
  std::string f = npy_file(dict, std::string(16, '\0'));
  f[8] = char(0x60), f[9] = char(0xea);
  test::write_text(dir / "longheader.npy", f);
  EXPECT_EQ(read_error(dir / "longheader.npy"),
            "truncated .npy header: it says 60000 bytes, the file holds 134 after the length field");
  // Dimensions whose product wraps around 64 bits, and one too long to be a number.
  test::write_text(dir / "wrap.npy", npy_file("{'descr': '<f8', 'fortran_order': False, 'shape': (100000000000000000, 1000)}", ""));
  EXPECT_EQ(read_error(dir / "wrap.npy"), "array too large: shape (100000000000000000, 1000)");
  test::write_text(dir / "digits.npy", npy_file("{'descr': '<f8', 'fortran_order': False, 'shape': (99999999999999999999,)}", ""));
  EXPECT_EQ(read_error(dir / "digits.npy"), "array too large: a dimension of 99999999999999999999");
  // An empty array is well-formed; bool bytes other than 0/1 are True as in numpy.
  test::write_text(dir / "empty.npy", npy_file("{'descr': '<f4', 'fortran_order': False, 'shape': (0, 5)}", ""));
  EXPECT_EQ(npy::read((dir / "empty.npy").string()).shape, (std::vector<int64_t>{0, 5}));
  test::write_text(dir / "bool.npy", npy_file("{'descr': '|b1', 'fortran_order': False, 'shape': (3,)}", std::string("\0\1\7", 3)));
  EXPECT_EQ(npy::read((dir / "bool.npy").string()).data, (std::vector<float>{0, 1, 1}));
}

// Every file numpy writes for the dtypes featpipe reads is read to the
// values numpy holds, bit for bit (all shapes, both orders, format versions
// 1-3, every float16 bit pattern); the other dtypes numpy writes are refused
// by name.
TEST(Npy, ReadsWhatNumpyWrites) {
  if (!test::python_has("numpy")) GTEST_SKIP() << "python3-numpy missing";
  test::TempDir dir;
  const std::string script = (test::source_dir() / "tests/core/npy_numpy_cases.py").string();
  const test::CmdResult made = test::run_shell(test::quote(test::python()) + " " + test::quote(script) + " " +
                                               test::quote(dir.path().string()));
  ASSERT_EQ(made.exit_code, 0) << made.err;
  int read = 0, refused = 0;
  for (const auto& entry : fs::directory_iterator(dir.path())) {
    if (entry.path().extension() != ".npy") continue;
    SCOPED_TRACE(entry.path().filename().string());
    std::string want = test::read_text(fs::path(entry.path()).replace_extension(".want"));
    const size_t eol = want.find('\n');
    const std::string head = want.substr(0, eol);
    if (head == "refuse") {
      EXPECT_EQ(read_error(entry.path()).rfind("unsupported dtype", 0), 0u) << read_error(entry.path());
      ++refused;
      continue;
    }
    std::vector<int64_t> shape;
    std::istringstream hs(head.substr(4));
    for (int64_t d; hs >> d;) shape.push_back(d);
    std::vector<float> values((want.size() - eol - 1) / 4);
    if (!values.empty()) std::memcpy(values.data(), want.data() + eol + 1, values.size() * 4);
    npy::Array a;
    ASSERT_NO_THROW(a = npy::read(entry.path().string()));
    EXPECT_EQ(a.shape, shape);
    // Compared as bits: NaN payloads and the sign of zero count too.
    std::vector<uint32_t> got_bits(a.data.size()), want_bits(values.size());
    if (!a.data.empty()) std::memcpy(got_bits.data(), a.data.data(), a.data.size() * 4);
    if (!values.empty()) std::memcpy(want_bits.data(), values.data(), values.size() * 4);
    EXPECT_EQ(got_bits, want_bits);
    ++read;
  }
  EXPECT_EQ(read, 21 * 9 * 2 * 3 + 1);
  EXPECT_EQ(refused, 8 * 2);
}
