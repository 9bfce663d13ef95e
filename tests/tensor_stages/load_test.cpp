// tensor.load through `featpipe run`: every dtype and memory order it takes
// (committed fixtures; random arrays made by numpy when it is installed),
// numpy reading what featpipe wrote, and bad files among good ones.
#include "norm_support.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <sstream>

namespace featpipe::test {
namespace {

const fs::path kFixtures = source_dir() / "samples" / "tensors";

fs::path pipeline(const std::string& name) { return source_dir() / "pipelines" / name; }

std::string lines_naming(const std::string& text, const std::string& what) {
  std::istringstream is(text);
  std::string line, out;
  while (std::getline(is, line))
    if (line.find(what) != std::string::npos) out += line + "\n";
  return out;
}

TEST(TensorLoad, EveryDtypeAndOrderOfTheFixtures) {
  TempDir out;
  const CmdResult r = run_cli({"run", pipeline("tensor-load.yaml").string(), kFixtures.string(), "-o", out.path().string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;

  const std::vector<float> sgn{0, -1, 2, -3, 4, -5}, uns{0, 1, 2, 3, 4, 250}, flt{0.5f, -1.5f, 2, -3, 4.25f, -5},
      bln{0, 1, 1, 1, 0, 1};
  std::map<std::string, std::vector<float>> expect;
  for (const char* c : {"i1", "i2", "i4", "i8"}) expect[c] = sgn;
  for (const char* c : {"u1", "u2", "u4", "u8"}) expect[c] = uns;
  for (const char* c : {"f4", "f8"}) expect[c] = flt;
  expect["b1"] = bln;
  int checked = 0;
  for (const auto& [code, values] : expect) {
    for (const char* order : {"c", "f"}) {
      const std::string name = "dtype_" + code + "_" + order + ".npy";
      SCOPED_TRACE(name);
      const npy::Array y = npy::read((out / (name + ".npy")).string());
      EXPECT_EQ(y.shape, (std::vector<int64_t>{2, 3}));
      EXPECT_EQ(y.data, values);
      ++checked;
    }
  }
  EXPECT_EQ(checked, 22);
  EXPECT_EQ(npy::read((out / "dtype_be_f4_c.npy.npy").string()).data, flt);
  EXPECT_EQ(npy::read((out / "dtype_be_i2_f.npy.npy").string()).data, sgn);
  const npy::Array r1 = npy::read((out / "rank1_f8.npy.npy").string());
  EXPECT_EQ(r1.shape, (std::vector<int64_t>{5}));
  EXPECT_EQ(r1.data, (std::vector<float>{-2, -1, 0, 1, 2}));
  const npy::Array r3 = npy::read((out / "rank3_i4_f.npy.npy").string());
  EXPECT_EQ(r3.shape, (std::vector<int64_t>{2, 3, 4}));
  for (int k = 0; k < 24; ++k) EXPECT_EQ(r3.data[k], float(k));  // C order after a Fortran file

  // The manifest records the axes tensor.load names.
  const std::string manifest = read_text(out / "manifest.jsonl");
  EXPECT_NE(lines_naming(manifest, "dtype_f4_c.npy").find("\"row\""), std::string::npos) << manifest;
  EXPECT_NE(lines_naming(manifest, "rank3_i4_f.npy").find("\"axis2\""), std::string::npos) << manifest;
}

TEST(TensorLoad, NumpyArraysRoundTripAndNumpyReadsOurOutput) {
  if (!python_has("numpy")) GTEST_SKIP() << "python3-numpy missing: covered by the committed fixtures only";
  TempDir in, out;
  const std::string script = quote((source_dir() / "tests/tensor_stages/npy_roundtrip.py").string());
  ASSERT_EQ(run_shell(quote(python()) + " " + script + " make " + quote(in.path().string())).exit_code, 0);
  const CmdResult r = run_cli({"run", pipeline("tensor-load.yaml").string(), in.path().string(), "-o", out.path().string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const CmdResult c =
      run_shell(quote(python()) + " " + script + " check " + quote(in.path().string()) + " " + quote(out.path().string()));
  EXPECT_EQ(c.exit_code, 0) << c.out << c.err;
  EXPECT_NE(c.out.find("numpy read 128 outputs"), std::string::npos) << c.out;
}

TEST(TensorLoad, NumpyReadsL2Output) {
  if (!python_has("numpy")) GTEST_SKIP() << "python3-numpy missing";
  TempDir out;
  const fs::path emb = kFixtures / "embeddings.npy";
  const CmdResult r = run_cli({"run", pipeline("tensor-l2.yaml").string(), emb.string(), "-o", out.path().string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string code =
      "import numpy as np, sys\n"
      "x = np.load(sys.argv[1]).astype(np.float64)\n"
      "y = np.load(sys.argv[2])\n"
      "assert y.dtype == np.float32 and y.shape == x.shape, (y.dtype, y.shape)\n"
      "ref = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)\n"
      "d = np.abs(y - ref).max()\n"
      "assert d <= 1e-5, d\n"
      "print('ok', d)\n";
  const CmdResult c = run_shell(quote(python()) + " -c " + quote(code) + " " + quote(emb.string()) + " " +
                                quote((out / "embeddings.npy.npy").string()));
  EXPECT_EQ(c.exit_code, 0) << c.out << c.err;
}

TEST(TensorLoad, PowernormPipelineMatchesFloat64) {
  TempDir out;
  const fs::path emb = kFixtures / "embeddings.npy";
  const CmdResult r = run_cli({"run", pipeline("tensor-powernorm.yaml").string(), emb.string(), "-o", out.path().string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const npy::Array x = npy::read(emb.string()), y = npy::read((out / "embeddings.npy.npy").string());
  ASSERT_EQ(y.shape, x.shape);
  std::vector<double> ref(x.data.size());
  const int64_t cols = x.shape[1];
  for (int64_t row = 0; row < x.shape[0]; ++row) {
    double s = 0;
    for (int64_t c = 0; c < cols; ++c) {
      const double v = x.data[row * cols + c];
      ref[row * cols + c] = (v < 0 ? -1 : 1) * std::sqrt(std::fabs(v));
      s += std::fabs(v);
    }
    for (int64_t c = 0; c < cols; ++c) ref[row * cols + c] /= std::max(std::sqrt(s), 1e-12);
  }
  EXPECT_LE(max_diff(y.data, ref), bound(ref));
}

TEST(TensorLoad, BadFilesFailAloneAndAreNamed) {
  TempDir in, out;
  // Two good files, copied from the fixtures.
  fs::copy_file(kFixtures / "embeddings.npy", in / "good1.npy");
  fs::copy_file(kFixtures / "dtype_i2_f.npy", in / "good2.npy");
  const std::string good = read_text(kFixtures / "embeddings.npy");
  write_text(in / "empty.npy", "");
  write_text(in / "truncated.npy", good.substr(0, good.size() - 100));
  write_text(in / "corrupt.npy", "this is not an array, only text that ends in .npy\n");
  write_text(in / "badheader.npy", good.substr(0, 10) + std::string(good.size() - 10, '#'));
  // Well-formed headers with shapes tensor.load refuses or cannot parse.
  auto npy_with = [](const std::string& dict, size_t data_bytes) {
    std::string d = dict;
    while ((10 + d.size() + 1) % 64) d += ' ';
    d += '\n';
    return std::string("\x93NUMPY\x01\x00", 8) + char(d.size() & 0xff) + char(d.size() >> 8) + d +
           std::string(data_bytes, '\0');
  };
  write_text(in / "noshape.npy", npy_with("{'descr': '<f4', 'fortran_order': False, 'shape': (x, 3), }", 24));
  write_text(in / "nothing.npy", npy_with("{'descr': '<f4', 'fortran_order': False, 'shape': (0, 3), }", 0));
  write_text(in / "complex.npy", npy_with("{'descr': '<c8', 'fortran_order': False, 'shape': (2,), }", 16));

  const CmdResult r = run_cli({"run", pipeline("tensor-l2.yaml").string(), in.path().string(), "-o", out.path().string()});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_TRUE(fs::exists(out / "good1.npy.npy"));
  EXPECT_TRUE(fs::exists(out / "good2.npy.npy"));
  const npy::Array g = npy::read((out / "good2.npy.npy").string());
  EXPECT_EQ(g.shape, (std::vector<int64_t>{2, 3}));
  struct Bad {
    const char* file;
    const char* says;
  };
  for (const Bad& b : {Bad{"empty.npy", "too short"}, Bad{"truncated.npy", "truncated"},
                       Bad{"corrupt.npy", "not a .npy file"}, Bad{"badheader.npy", "npy header"},
                       Bad{"noshape.npy", "malformed .npy shape (x, 3)"}, Bad{"nothing.npy", "empty"},
                       Bad{"complex.npy", "unsupported dtype '<c8'"}}) {
    SCOPED_TRACE(b.file);
    EXPECT_FALSE(fs::exists(out / (std::string(b.file) + ".npy")));
    const std::string said = lines_naming(r.err, b.file);
    EXPECT_NE(said, "") << "no error naming " << b.file << " in:\n" << r.err;
    EXPECT_NE(said.find(b.says), std::string::npos) << said;
  }
}

// `axes` names the arrays' axes at load time, so later steps can use them
// (here: pooling a 3-D array over named and negative axes); a file of
// another rank then fails alone.
TEST(TensorLoad, DeclaredAxesLetLaterStepsUseThemAtLoadTime) {
  TempDir dir;
  std::vector<float> x(2 * 3 * 4);
  for (size_t k = 0; k < x.size(); ++k) x[k] = static_cast<float>(k);
  write_npy(dir / "in" / "a.npy", {2, 3, 4}, x);
  write_npy(dir / "in" / "flat.npy", {6, 4}, std::vector<float>(24, 1.0f));
  write_text(dir / "p.yaml", "featpipe: 1\nname: p\nstages:\n  - use: tensor.load\n    with: {axes: [channel, height, width]}\n"
                             "  - use: math.pool\n    with: {op: max, axes: [height, -1]}\n");
  auto v = run_cli({"validate", (dir / "p.yaml").string()});
  EXPECT_EQ(v.exit_code, 0) << v.err;
  EXPECT_NE(v.out.find("math.pool   -> [channel=?]"), std::string::npos) << v.out;
  const CmdResult r = run_cli({"run", (dir / "p.yaml").string(), (dir / "in").string(), "-o", (dir / "out").string(), "-q"});
  EXPECT_EQ(r.exit_code, 1);
  npy::Array a = npy::read((dir / "out" / "a.npy.npy").string());
  EXPECT_EQ(a.shape, (std::vector<int64_t>{2}));
  EXPECT_EQ(a.data, (std::vector<float>{11, 23}));  // each channel's maximum
  EXPECT_NE(r.err.find("flat.npy: step 1 'tensor.load': the array has rank 2 (shape (6, 4)), the pipeline's `axes` name 3"),
            std::string::npos) << r.err;
  // Without `axes` a 3-D file gets axis0..axis2 (and integer axes beyond
  // [row, col] cannot be checked at load time: they are refused there).
  write_text(dir / "q.yaml", "featpipe: 1\nname: q\nstages:\n  - use: tensor.load\n  - use: math.pool\n    with: {axes: [2]}\n");
  v = run_cli({"validate", (dir / "q.yaml").string()});
  EXPECT_EQ(v.exit_code, 2);
  EXPECT_NE(v.err.find("q.yaml:6:18: step 2 'math.pool': axis 2 out of range"), std::string::npos) << v.err;
}

// float16 .npy and .npz archives (stored and deflated) made by numpy: read
// bit for bit as numpy converts them; an archive of two arrays needs `key`;
// damaged archives fail alone, named.
TEST(TensorLoad, Float16AndNpzAsNumpyWritesThem) {
  if (!python_has("numpy")) GTEST_SKIP() << "python3-numpy missing";
  TempDir in, out, keyed;
  const std::string script = quote((source_dir() / "tests/tensor_stages/npz_cases.py").string());
  ASSERT_EQ(run_shell(quote(python()) + " " + script + " make " + quote(in.path().string())).exit_code, 0);
  CmdResult r = run_cli({"run", pipeline("tensor-load.yaml").string(), in.path().string(), "-o", out.path().string()});
  EXPECT_EQ(r.exit_code, 1) << r.err;  // two.npz, truncated.npz and flipped.npz fail
  EXPECT_NE(lines_naming(r.err, "two.npz").find("holds 2 arrays (a, b): name one with `key`"), std::string::npos)
      << r.err;
  EXPECT_NE(lines_naming(r.err, "truncated.npz").find("cannot read .npz"), std::string::npos) << r.err;
  EXPECT_NE(lines_naming(r.err, "flipped.npz").find("CRC-32 mismatch"), std::string::npos) << r.err;

  write_text(keyed / "p.yaml", "featpipe: 1\nname: p\nstages:\n  - use: tensor.load\n    with: {key: b}\n");
  r = run_cli({"run", (keyed / "p.yaml").string(), (in / "two.npz").string(), "-o", (keyed / "b").string(), "-q"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  fs::copy_file(keyed / "b" / "two.npz.npy", out / "two.npz.npy");
  r = run_cli({"run", (keyed / "p.yaml").string(), (in / "one.npz").string(), "-o", (keyed / "o").string(), "-q"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("no array 'b' in the .npz (it holds: arr_0)"), std::string::npos) << r.err;

  const CmdResult c =
      run_shell(quote(python()) + " " + script + " check " + quote(in.path().string()) + " " + quote(out.path().string()));
  EXPECT_EQ(c.exit_code, 0) << c.out << c.err;
  EXPECT_NE(c.out.find("numpy agrees on 4 arrays"), std::string::npos) << c.out;
}

}  // namespace
}  // namespace featpipe::test
