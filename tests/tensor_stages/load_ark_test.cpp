// tensor.load of Kaldi archives: an ark featpipe wrote read back exactly
// (by key, by FILE.ark:OFFSET from its scp, through the API and `run`), an
// ark numpy wrote from Kaldi's format (float and double matrices), and
// archives it cannot read named as such.
#include "norm_support.hpp"

#include <featpipe/kaldi_io.hpp>

#include <gtest/gtest.h>

#include <cstring>
#include <sstream>

namespace featpipe::test {
namespace {

const fs::path kAudio = source_dir() / "samples" / "audio";

std::shared_ptr<const Pipeline> loader(const std::string& with = "") {
  return Pipeline::parse("featpipe: 1\nname: ark\nstages:\n  - use: tensor.load\n" + with, "ark.yaml", ".");
}

bool bit_equal(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * 4) == 0;
}

class LoadArk : public ::testing::Test {
 protected:
  // Log-mel features of two recordings as .npy (the reference) and as an ark.
  void SetUp() override {
    write_text(dir / "wav.scp", "a " + (kAudio / "speech_espeak_16k.wav").string() + "\nb " +
                                    (kAudio / "speech_8k.wav").string() + "\n");
    for (const std::string format : {"npy", "ark"}) {
      const CmdResult r = run_cli({"run", (source_dir() / "pipelines" / "kaldi-fbank.yaml").string(), "--inputs-from",
                                   (dir / "wav.scp").string(), "--output-format", format, "-o", (dir / format).string(), "-q"});
      ASSERT_EQ(r.exit_code, 0) << r.err;
    }
  }
  TempDir dir;
};

}  // namespace

TEST_F(LoadArk, EntriesByKeyAndByOffsetEqualTheNpyFeatures) {
  const fs::path ark = dir / "ark" / "feats.ark";
  for (const auto& e : kaldi::read_scp((dir / "ark" / "feats.scp").string())) {
    SCOPED_TRACE(e.key);
    const npy::Array want = npy::read((dir / "npy" / (e.key + ".npy")).string());
    Tensor by_key = loader("    with: {key: " + e.key + "}\n")->session()->run_file(ark.string());
    EXPECT_EQ(by_key.shape, want.shape);
    EXPECT_EQ(by_key.axes, (std::vector<std::string>{"row", "col"}));
    EXPECT_TRUE(bit_equal(by_key.data, want.data));
    Tensor at = loader()->session()->run_file(e.ark + ":" + std::to_string(e.offset));
    EXPECT_EQ(at.shape, want.shape);
    EXPECT_TRUE(bit_equal(at.data, want.data));
  }
  // Through `run`, over the archive named as a file.
  write_text(dir / "b.yaml", "featpipe: 1\nname: b\nstages:\n  - use: tensor.load\n    with: {key: b, axes: [frame, mel]}\n");
  const CmdResult r = run_cli({"run", (dir / "b.yaml").string(), ark.string(), "-o", (dir / "back").string(), "-q"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(bit_equal(npy::read((dir / "back" / "feats.ark.npy").string()).data,
                        npy::read((dir / "npy" / "b.npy").string()).data));
}

TEST_F(LoadArk, ArchivesItCannotReadAreNamed) {
  const std::string ark = (dir / "ark" / "feats.ark").string();
  auto error_of = [](const std::shared_ptr<const Pipeline>& p, const std::string& path) {
    try {
      p->session()->run_file(path);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(error_of(loader(), ark).find("cannot read .ark: the archive holds 2 entries; set `key`"), std::string::npos);
  EXPECT_NE(error_of(loader("    with: {key: zz}\n"), ark).find("cannot read .ark: no entry 'zz' among its 2"), std::string::npos);
  EXPECT_NE(error_of(loader(), ark + ":1").find("cannot read .ark: "), std::string::npos);
  // A colon and digits after another name is not an offset: a .npy path.
  EXPECT_NE(error_of(loader(), (dir / "x.npy:5").string()).find("cannot read .npy"), std::string::npos);
  write_text(dir / "text.ark", "a  [\n 1 2\n 3 4 ]\n");
  EXPECT_NE(error_of(loader(), (dir / "text.ark").string()).find("not a Kaldi binary matrix"), std::string::npos);
  const std::string bytes = read_text(ark);
  write_text(dir / "cut.ark", bytes.substr(0, 100));
  EXPECT_NE(error_of(loader("    with: {key: a}\n"), (dir / "cut.ark").string()).find("truncated data"), std::string::npos);
}

TEST(LoadArkNumpy, ReadsAnArchiveNumpyWroteFromKaldisFormat) {
  if (!python_has("numpy")) GTEST_SKIP() << "python3-numpy missing";
  TempDir dir;
  // Written from the format alone: KEY, space, \0B, FM/DM, size-4 int32s, data.
  const std::string code = R"(
import numpy as np, struct, sys
rng = np.random.default_rng(7)
f32 = rng.standard_normal((5, 3)).astype(np.float32)
f64 = rng.standard_normal((2, 4))
with open(sys.argv[1], "wb") as f:
    for key, m, tok in ((b"u1", f32, b"FM "), (b"u2", f64, b"DM ")):
        f.write(key + b" \0B" + tok + struct.pack("<bibi", 4, m.shape[0], 4, m.shape[1]) + m.tobytes())
np.save(sys.argv[2], f32)
np.save(sys.argv[3], f64.astype(np.float32))
)";
  const std::string ark = (dir / "np.ark").string();
  const CmdResult w = run_shell(quote(python()) + " -c " + quote(code) + " " + quote(ark) + " " +
                                quote((dir / "u1.npy").string()) + " " + quote((dir / "u2.npy").string()));
  ASSERT_EQ(w.exit_code, 0) << w.err;
  for (const std::string key : {"u1", "u2"}) {
    Tensor t = loader("    with: {key: " + key + "}\n")->session()->run_file(ark);
    const npy::Array want = npy::read((dir / (key + ".npy")).string());
    EXPECT_EQ(t.shape, want.shape) << key;
    EXPECT_TRUE(bit_equal(t.data, want.data)) << key;
  }
}

}  // namespace featpipe::test
