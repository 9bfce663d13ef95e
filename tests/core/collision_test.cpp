// Two inputs whose outputs would be the same file (d1/x.wav and d2/x.wav
// named directly, or folders holding the same names): the later input fails,
// naming the other, and the earlier one's features are what is written,
// with or without --overwrite and with two workers racing for the file.
// Without the check the second would silently replace the first (exit 0).
#include "test_support.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <map>
#include <sstream>

using namespace featpipe;
using nlohmann::json;

namespace {

const fs::path kAudio = test::source_dir() / "samples" / "audio";
const fs::path kPipeline = test::source_dir() / "pipelines" / "speech-logmel.yaml";

class Collision : public ::testing::Test {
 protected:
  // Places sample recording `sample` at DIR/rel.
  fs::path place(const std::string& sample, const std::string& rel) {
    fs::create_directories((dir / rel).parent_path());
    fs::copy_file(kAudio / sample, dir / rel);
    return dir / rel;
  }
  test::CmdResult run(const std::vector<std::string>& inputs, std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"run", kPipeline.string()};
    args.insert(args.end(), inputs.begin(), inputs.end());
    args.insert(args.end(), {"-o", out().string(), "-q"});
    args.insert(args.end(), extra.begin(), extra.end());
    return test::run_cli(args);
  }
  // The features of `input` alone, written in a folder of their own.
  std::string features_of(const fs::path& input) {
    const fs::path ref = dir / "ref" / std::to_string(refs++);
    auto r = test::run_cli({"run", kPipeline.string(), input.string(), "-o", ref.string(), "-q"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return test::read_text(ref / (input.filename().string() + ".npy"));
  }
  // The manifest's lines from the last run (the manifest is appended to).
  std::vector<json> last_lines(size_t n) const {
    std::vector<json> lines;
    std::istringstream is(test::read_text(out() / "manifest.jsonl"));
    for (std::string line; std::getline(is, line);) lines.push_back(json::parse(line));
    EXPECT_GE(lines.size(), n);
    return std::vector<json>(lines.end() - static_cast<std::ptrdiff_t>(std::min(n, lines.size())), lines.end());
  }
  fs::path out() const { return dir / "out"; }
  // The later input failed, naming the earlier one; the earlier was written.
  void expect_later_fails(const test::CmdResult& r, const json& first, const json& later, const fs::path& first_path,
                          const fs::path& later_path, const std::string& out_rel) {
    EXPECT_EQ(first["input"], first_path.string());
    EXPECT_EQ(first["status"], "ok");
    EXPECT_EQ(later["input"], later_path.string());
    EXPECT_EQ(later["status"], "error");
    EXPECT_EQ(later["output"], out_rel);
    ASSERT_TRUE(later["error"].is_string()) << later;
    const std::string msg = "its output " + out_rel + " is also that of " + first_path.string();
    EXPECT_NE(later["error"].get<std::string>().find(msg), std::string::npos) << later;
    EXPECT_NE(r.err.find("error: " + later_path.string() + ": " + msg), std::string::npos) << r.err;
  }
  test::TempDir dir;
  int refs = 0;
};

}  // namespace

TEST_F(Collision, SecondFileWithTheSameNameFailsNamingTheFirst) {
  // Different recordings, so different features.
  const fs::path a = place("front_center_16k.wav", "d1/x.wav"), b = place("speech_espeak_16k.wav", "d2/x.wav");
  auto r = run({a.string(), b.string()});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("2 inputs: 1 ok, 1 failed, 0 skipped"), std::string::npos) << r.err;
  auto m = last_lines(2);
  ASSERT_EQ(m.size(), 2u);
  expect_later_fails(r, m[0], m[1], a, b, "x.wav.npy");
  EXPECT_EQ(test::read_text(out() / "x.wav.npy"), features_of(a));
}

TEST_F(Collision, OverwriteReplacesAnOldOutputWithTheFirstInputOnly) {
  const fs::path a = place("front_center_16k.wav", "d1/x.wav"), b = place("speech_espeak_16k.wav", "d2/x.wav");
  // An earlier run left the second recording's features there.
  auto r = run({b.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_EQ(test::read_text(out() / "x.wav.npy"), features_of(b));

  r = run({a.string(), b.string()}, {"--overwrite"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  auto m = last_lines(2);
  ASSERT_EQ(m.size(), 2u);
  expect_later_fails(r, m[0], m[1], a, b, "x.wav.npy");
  EXPECT_EQ(test::read_text(out() / "x.wav.npy"), features_of(a));
}

// Two folders with the same file names under -j 2: every name collides, and
// with two workers the two inputs of a name would otherwise race for it.
// Run into a fresh folder, then again with --overwrite over the outputs.
TEST_F(Collision, FoldersWithTheSameNamesAtTwoJobs) {
  const std::vector<std::string> samples = {"front_center_16k.wav", "rear_right_16k.wav", "speech_espeak_16k.wav",
                                            "speech_8k.wav"};
  const std::vector<std::string> names = {"s0.wav", "s1.wav", "sub/s2.wav", "sub/s3.wav"};
  std::map<std::string, std::string> want;
  for (size_t k = 0; k < names.size(); ++k) {
    want[names[k]] = features_of(place(samples[k], "a/" + names[k]));
    place(samples[(k + 1) % samples.size()], "b/" + names[k]);  // other content under the same name
  }
  for (const std::vector<std::string> extra : {std::vector<std::string>{}, std::vector<std::string>{"--overwrite"}}) {
    SCOPED_TRACE(extra.empty() ? "fresh output folder" : "--overwrite");
    std::vector<std::string> args = {"-j", "2"};
    args.insert(args.end(), extra.begin(), extra.end());
    auto r = run({(dir / "a").string(), (dir / "b").string()}, args);
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_NE(r.err.find("8 inputs: 4 ok, 4 failed, 0 skipped"), std::string::npos) << r.err;
    std::map<std::string, json> by_input;
    for (const auto& e : last_lines(8)) by_input[e["input"].get<std::string>()] = e;
    ASSERT_EQ(by_input.size(), 8u);
    for (const auto& name : names) {
      const fs::path first = dir / "a" / name, later = dir / "b" / name;
      expect_later_fails(r, by_input[first.string()], by_input[later.string()], first, later, name + ".npy");
      EXPECT_EQ(test::read_text(out() / (name + ".npy")), want[name]) << name;
    }
  }
}
