// `featpipe run` on a 45-minute recording in each output format that writes
// as frames come (.npy, .npy --dtype float16, Kaldi ark + scp): its peak
// memory grows over a 1-minute file's by far less than the features' size
// (by 6-8 MB; 125 MB when a sink takes the whole tensor), the outputs agree
// with each other, and an input failing late leaves nothing of itself while
// the others are stored.
#include "test_support.hpp"

#include <featpipe/kaldi_io.hpp>
#include <featpipe/npy.hpp>

#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>
#include <memory>

using namespace featpipe;

namespace {

const fs::path kPipeline = test::source_dir() / "pipelines" / "kaldi-fbank.yaml";
constexpr int kRate = 16000;
constexpr int64_t kMinutes = 45;  // 270,000 frames of 80 float32: 86 MB of features
// One process (--isolation thread), so the peak is that of the writes and
// of the ark's merge, not hidden under the run's own (a worker process's is
// lower). Over a 1-minute file's peak (~20 MB; more while a stale plugin
// index makes the CLI load every plugin): up to 8 MB of frames held, one
// chunk in flight. Holding the features whole would add 86 MB (float32),
// 129 MB for float16 (the tensor and its bytes).
constexpr int64_t kGrowthLimitKb = 32 * 1024;

void put32(std::ostream& os, uint32_t v) { os.write(reinterpret_cast<const char*>(&v), 4); }
void put16(std::ostream& os, uint16_t v) { os.write(reinterpret_cast<const char*>(&v), 2); }

// A mono WAV: 16-bit PCM or 32-bit float (format 3), the samples from
// `sample` (in [-1, 1)), written in blocks.
template <class F>
void write_wav(const fs::path& path, int64_t frames, bool float32, F sample) {
  fs::create_directories(path.parent_path());
  std::ofstream os(path, std::ios::binary);
  const uint16_t bytes = float32 ? 4 : 2;
  const auto data = static_cast<uint32_t>(frames * bytes);
  os.write("RIFF", 4), put32(os, 36 + data), os.write("WAVEfmt ", 8), put32(os, 16);
  put16(os, float32 ? 3 : 1), put16(os, 1), put32(os, kRate), put32(os, kRate * bytes), put16(os, bytes), put16(os, 8 * bytes);
  os.write("data", 4), put32(os, data);
  std::vector<char> block;
  for (int64_t at = 0; at < frames;) {
    const int64_t n = std::min<int64_t>(frames - at, kRate * 10);
    block.resize(static_cast<size_t>(n * bytes));
    for (int64_t k = 0; k < n; ++k) {
      const float x = sample(at + k);
      if (float32) std::memcpy(block.data() + 4 * k, &x, 4);
      else {
        const auto s = static_cast<int16_t>(std::lrint(x * 32767.0f));
        std::memcpy(block.data() + 2 * k, &s, 2);
      }
    }
    os.write(block.data(), static_cast<std::streamsize>(block.size()));
    at += n;
  }
  if (!os) throw std::runtime_error("cannot write " + path.string());
}

// A tone with noise, so every mel band has energy.
float tone(int64_t t) {
  uint32_t h = static_cast<uint32_t>(t) * 2654435761u;
  h ^= h >> 15;
  return 0.3f * std::sin(0.013f * static_cast<float>(t % 100000)) + 0.05f * (static_cast<float>(h % 2001) / 1000.0f - 1.0f);
}

struct Measured {
  int exit_code = -1;
  long peak_kb = 0;  // ru_maxrss of the CLI and its reaped workers
  std::string err;
};

// The CLI as a child of its own, so ru_maxrss is this run's (and its
// workers', each waited for by the run), not the test process's other children.
Measured run_measured(const std::vector<std::string>& args, const fs::path& err_file) {
  std::vector<std::string> all{FEATPIPE_CLI};
  all.insert(all.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : all) argv.push_back(a.data());
  argv.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid == 0) {
    const int fd = ::open(err_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int null = ::open("/dev/null", O_WRONLY);
    if (fd < 0 || null < 0 || ::dup2(fd, 2) < 0 || ::dup2(null, 1) < 0) ::_exit(126);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  Measured m;
  int status = 0;
  struct rusage ru {};
  if (pid < 0 || ::wait4(pid, &status, 0, &ru) != pid) return m;
  m.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  m.peak_kb = ru.ru_maxrss;
  m.err = test::read_text(err_file);
  return m;
}

float half_to_float(uint16_t h) {
  const int e = (h >> 10) & 31, m = h & 1023;
  const float v = e == 0 ? std::ldexp(static_cast<float>(m), -24) : std::ldexp(static_cast<float>(m | 1024), e - 25);
  return (h & 0x8000) ? -v : v;
}

class LongRun : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = std::make_unique<test::TempDir>();
    write_wav(in() / "long.wav", kMinutes * 60 * kRate, false, tone);
    write_wav(at("short") / "short.wav", 60 * kRate, false, tone);
  }
  static void TearDownTestSuite() { dir_.reset(); }
  static fs::path in() { return dir_->path() / "in"; }
  static fs::path at(const std::string& rel) { return dir_->path() / rel; }
  static std::unique_ptr<test::TempDir> dir_;
};
std::unique_ptr<test::TempDir> LongRun::dir_;

}  // namespace

TEST_F(LongRun, EachFormatWritesAsFramesComeInBoundedMemory) {
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "not under AddressSanitizer: its shadow memory and quarantine make the peak meaningless";
#endif
  const int64_t rows = kMinutes * 60 * 100 - 2;  // 25 ms frames every 10 ms, snip_edges
  struct Format {
    std::string out;
    std::vector<std::string> args;
  };
  for (const Format& f : {Format{"npy", {}}, Format{"f16", {"--dtype", "float16"}}, Format{"ark", {"--output-format", "ark"}}}) {
    long peak[2] = {};
    for (int k = 0; k < 2; ++k) {
      const std::string out = f.out + (k ? "" : "_short");
      std::vector<std::string> args{"run", kPipeline.string(), (k ? in() : at("short")).string(), "-o", at(out).string(),
                                    "-j", "1", "--isolation", "thread", "-q"};
      args.insert(args.end(), f.args.begin(), f.args.end());
      const Measured m = run_measured(args, at(out + ".err"));
      ASSERT_EQ(m.exit_code, 0) << out << ": " << m.err;
      peak[k] = m.peak_kb;
    }
    std::cout << "[ peak ] " << f.out << ": 1 min " << peak[0] / 1024.0 << " MB, " << kMinutes << " min "
              << peak[1] / 1024.0 << " MB\n";
    EXPECT_LT(peak[1] - peak[0], kGrowthLimitKb) << f.out << ": the peak grew from " << peak[0] / 1024 << " MB to "
                                                 << peak[1] / 1024 << " MB";
  }
  const npy::Array a = npy::read((at("npy") / "long.wav.npy").string());
  ASSERT_EQ(a.shape, (std::vector<int64_t>{rows, 80}));
  // float16: each value the float32 one rounded to the nearest half.
  const std::string h = test::read_text(at("f16") / "long.wav.npy");
  const size_t header = h.size() - a.data.size() * 2;
  std::string want = npy::header({rows, 80});
  want.replace(want.find("'<f4'"), 5, "'<f2'");
  ASSERT_EQ(h.substr(0, header), want);
  size_t off = 0;
  for (size_t k = 0; k < a.data.size(); ++k) {
    uint16_t bits;
    std::memcpy(&bits, h.data() + header + 2 * k, 2);
    const float x = a.data[k], y = half_to_float(bits);
    off += std::fabs(y - x) > std::ldexp(std::fabs(x), -11) + std::ldexp(1.0f, -25);
  }
  EXPECT_EQ(off, 0u) << "values farther than half a float16 step from the float32 ones";
  // The ark, read by featpipe's reader and by a numpy reader written from
  // Kaldi's format, holds the float32 .npy's values bit for bit.
  const auto entries = kaldi::read_scp((at("ark") / "feats.scp").string());
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].key, "long.wav");
  const kaldi::Matrix mat = kaldi::read_at(entries[0].ark, entries[0].offset);
  EXPECT_EQ(mat.rows, rows);
  EXPECT_TRUE(mat.data.size() == a.data.size() && std::memcmp(mat.data.data(), a.data.data(), a.data.size() * 4) == 0);
  if (test::python_has("numpy")) {
    auto r = test::run_shell(test::quote(test::python()) + " " +
                             test::quote((test::source_dir() / "tests" / "core" / "kaldi_ark_read.py").string()) + " " +
                             test::quote((at("ark") / "feats.scp").string()) + " " + test::quote(at("npy").string()));
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_NE(r.out.find("1 entries equal"), std::string::npos) << r.out;
  }
}

TEST_F(LongRun, AnInputFailingLateLeavesNoPartialOutput) {
  // NaN samples 6 minutes in: 11 MB of features are written before the
  // decoder meets them (past the 8 MB held in memory).
  const fs::path bad_in = at("bad_in");
  write_wav(bad_in / "bad.wav", 7 * 60 * kRate, true, [](int64_t t) {
    return t == 6 * 60 * kRate + 17 ? std::numeric_limits<float>::quiet_NaN() : tone(t);
  });
  write_wav(bad_in / "good.wav", 3 * kRate, false, tone);
  write_wav(bad_in / "long.wav", 5 * 60 * kRate, false, tone);  // 9.6 MB of features: spilled too
  for (const std::string& fmt : {"npy", "f16", "ark"}) {
    std::vector<std::string> args{"run", kPipeline.string(), bad_in.string(), "-o", at("bad_" + fmt).string(), "-q"};
    if (fmt == "f16") args.insert(args.end(), {"--dtype", "float16"});
    if (fmt == "ark") args.insert(args.end(), {"--output-format", "ark"});
    const Measured m = run_measured(args, at("bad_" + fmt + ".err"));
    EXPECT_EQ(m.exit_code, 1) << fmt << ": " << m.err;
    EXPECT_NE(m.err.find("'bad.wav' contains NaN samples (first at frame 5760017)"), std::string::npos) << m.err;
    std::vector<std::string> names;
    for (const auto& e : fs::recursive_directory_iterator(at("bad_" + fmt)))
      names.push_back(fs::relative(e.path(), at("bad_" + fmt)).string());
    std::sort(names.begin(), names.end());
    const std::vector<std::string> outputs = fmt == "ark" ? std::vector<std::string>{"feats.ark", "feats.scp"}
                                                          : std::vector<std::string>{"good.wav.npy", "long.wav.npy"};
    std::vector<std::string> want{"manifest.jsonl", "provenance.json", "run.json"};
    want.insert(want.end(), outputs.begin(), outputs.end());
    std::sort(want.begin(), want.end());
    EXPECT_EQ(names, want) << fmt;  // no bad.wav.npy, no staged matrix, no temporary
    if (fmt == "npy") EXPECT_EQ(npy::read((at("bad_npy") / "long.wav.npy").string()).shape, (std::vector<int64_t>{29998, 80}));
    if (fmt == "f16")  // the header of [29998, 80], then 2 bytes a value
      EXPECT_EQ(fs::file_size(at("bad_f16") / "long.wav.npy"), npy::header({29998, 80}).size() + 29998u * 80 * 2);
    if (fmt != "ark") continue;
    std::vector<std::string> keys;
    for (const auto& e : kaldi::read_scp((at("bad_ark") / "feats.scp").string())) {
      keys.push_back(e.key);
      const kaldi::Matrix mat = kaldi::read_at(e.ark, e.offset);
      EXPECT_EQ(mat.rows, e.key == "long.wav" ? 29998 : 298) << e.key;
    }
    EXPECT_EQ(keys, (std::vector<std::string>{"good.wav", "long.wav"}));
  }
}

TEST_F(LongRun, AFloat16ValueBeyondRangeLateFailsTheInputNamingIt) {
  // A power spectrum: a full-scale 1 kHz tone 280 s in peaks near 2.6e5,
  // past float16's 65504, after 57 MB of float16 values were written.
  const fs::path d = at("loud_in");
  write_wav(d / "loud.wav", 300 * kRate, false,
            [](int64_t t) { return t / kRate == 280 ? 0.9f * std::sin(0.39269908f * static_cast<float>(t)) : 0.01f * tone(t); });
  write_wav(d / "ok.wav", 10 * kRate, false, [](int64_t t) { return 0.01f * tone(t); });
  test::write_text(at("stft.yaml"), "featpipe: 1\nname: power\nstages:\n  - use: audio.decode\n  - use: audio.stft\n"
                                    "    with: {n_fft: 2048, hop_length: 160}\n");
  const Measured m = run_measured({"run", at("stft.yaml").string(), d.string(), "-o", at("loud").string(), "--dtype",
                                   "float16", "-q"},
                                  at("loud.err"));
  EXPECT_EQ(m.exit_code, 1) << m.err;
  // Of 1025 bins, a frame about 280 s in (28001 here, its window mostly in the tone).
  EXPECT_NE(m.err.find("(at flat index 2870"), std::string::npos) << m.err;
  EXPECT_NE(m.err.find("of step 2 'audio.stft' is beyond float16's range (largest 65504)"), std::string::npos) << m.err;
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(at("loud"))) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"manifest.jsonl", "ok.wav.npy", "provenance.json", "run.json"}));
}
