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
  fs::path out() const { return dir / "out"; }
  // The run was refused, naming both inputs and their shared output.
  void expect_refused(const test::CmdResult& r, const fs::path& first, const fs::path& later, const std::string& out_rel) {
    EXPECT_NE(r.err.find("nothing was run"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find(first.string() + " and " + later.string() + " -> " + out_rel), std::string::npos) << r.err;
  }
  test::TempDir dir;
  int refs = 0;
};

}  // namespace

// Colliding inputs are refused before any work (exit 2), every pair named:
// with the check gone, the second would silently replace the first.
TEST_F(Collision, SecondFileWithTheSameNameIsRefusedBeforeAnyWork) {
  // Different recordings, so different features.
  const fs::path a = place("front_center_16k.wav", "d1/x.wav"), b = place("speech_espeak_16k.wav", "d2/x.wav");
  auto r = run({a.string(), b.string()});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  expect_refused(r, a, b, "x.wav.npy");
  EXPECT_FALSE(fs::exists(out() / "x.wav.npy"));
  EXPECT_FALSE(fs::exists(out() / "provenance.json"));
}

TEST_F(Collision, OverwriteDoesNotLetACollisionReplaceAnOldOutput) {
  const fs::path a = place("front_center_16k.wav", "d1/x.wav"), b = place("speech_espeak_16k.wav", "d2/x.wav");
  // An earlier run left the second recording's features there.
  auto r = run({b.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_EQ(test::read_text(out() / "x.wav.npy"), features_of(b));

  r = run({a.string(), b.string()}, {"--overwrite"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  expect_refused(r, a, b, "x.wav.npy");
  EXPECT_EQ(test::read_text(out() / "x.wav.npy"), features_of(b));  // untouched
}

// Two folders with the same file names under -j 2: every name collides, and
// with two workers the two inputs of a name would otherwise race for it.
// Run into a fresh folder, then again with --overwrite over earlier outputs.
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
    EXPECT_EQ(r.exit_code, 2) << r.err;
    for (const auto& name : names) {
      expect_refused(r, dir / "a" / name, dir / "b" / name, name + ".npy");
      EXPECT_FALSE(fs::exists(out() / (name + ".npy"))) << name;
    }
    // The folder alone still runs.
    if (extra.empty()) {
      r = run({(dir / "a").string()}, {"-j", "2"});
      ASSERT_EQ(r.exit_code, 0) << r.err;
      for (const auto& name : names) EXPECT_EQ(test::read_text(out() / (name + ".npy")), want[name]) << name;
      fs::remove_all(out());
    }
  }
}
