// `featpipe run` accounts for every input: what it does not take is in the
// manifest ("status": "not_taken") and counted; inputs it cannot read fail
// the run (exit 1); nothing to take, colliding outputs and a bad --shard stop
// it before any work (exit 2); its output folder is never walked as input.
#include "test_support.hpp"

#include <featpipe/runner.hpp>

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <sys/stat.h>

using namespace featpipe;
using nlohmann::json;

namespace {

class Walked : public ::testing::Test {
 protected:
  void SetUp() override {
    test::write_text(dir / "p.yaml", "featpipe: 1\nname: double\nstages:\n  - use: test.read\n  - use: test.gain\n");
    test::write_text(dir / "in" / "a.txt", "1 2 3");
    test::write_text(dir / "in" / "notes.md", "not an input");
  }
  test::CmdResult run(std::vector<std::string> inputs, std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"run", (dir / "p.yaml").string()};
    args.insert(args.end(), inputs.begin(), inputs.end());
    const std::vector<std::string> common = {"-o", out().string(), "--plugin", FIXTURE_STAGES, "-q"};
    args.insert(args.end(), common.begin(), common.end());
    args.insert(args.end(), extra.begin(), extra.end());
    return test::run_cli(args);
  }
  std::string in() const { return (dir / "in").string(); }
  fs::path out() const { return dir / "out"; }
  std::vector<json> lines(const std::string& status) const {
    std::vector<json> got;
    std::istringstream is(test::read_text(out() / "manifest.jsonl"));
    for (std::string line; std::getline(is, line);)
      if (json j = json::parse(line); j["status"] == status) got.push_back(j);
    return got;
  }
  test::TempDir dir;
};

}  // namespace

TEST_F(Walked, FilesNotTakenAreInTheManifestWithWhy) {
  auto r = run({in()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto nt = lines("not_taken");
  ASSERT_EQ(nt.size(), 1u);
  EXPECT_EQ(nt[0]["input"], (dir / "in" / "notes.md").string());
  EXPECT_EQ(nt[0]["reason"], "extension .md not read");
  EXPECT_EQ(lines("ok").size(), 1u);
}

TEST_F(Walked, ADanglingLinkFailsTheRunAndIsNamed) {
  fs::create_symlink(dir / "moved.txt", dir / "in" / "b.txt");
  auto r = run({in()});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("b.txt: not taken: dangling symbolic link"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("1 not readable"), std::string::npos) << r.err;
  auto nt = lines("not_taken");
  ASSERT_EQ(nt.size(), 2u);  // the link and notes.md
  EXPECT_EQ(lines("ok").size(), 1u);  // the rest still ran
}

TEST_F(Walked, NothingTakenWritesNoProvenanceAndExitsTwo) {
  fs::remove(dir / "in" / "a.txt");
  auto r = run({in()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("no input to take"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("reads .txt files"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(out() / "provenance.json"));
}

TEST_F(Walked, TheOutputFolderInsideTheInputIsNotWalked) {
  const std::string inner = (dir / "in" / "feats").string();
  std::vector<std::string> args = {"run", (dir / "p.yaml").string(), in(), "-o", inner, "--plugin", FIXTURE_STAGES, "-q"};
  ASSERT_EQ(test::run_cli(args).exit_code, 0);
  // Made a .txt-named output to tempt the walk; the second run takes a.txt only.
  test::write_text(dir / "in" / "feats" / "decoy.txt", "9");
  args.push_back("--overwrite");
  auto r = test::run_cli(args);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("the run's output folder, not walked"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("1 input: 1 ok"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(dir / "in" / "feats" / "feats"));
  EXPECT_FALSE(fs::exists(dir / "in" / "feats" / "feats" / "decoy.txt.npy"));
}

TEST_F(Walked, CollidingInputsAreRefusedBeforeAnyWork) {
  test::write_text(dir / "other" / "a.txt", "4");
  auto r = run({in(), (dir / "other").string()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find((dir / "in" / "a.txt").string() + " and " + (dir / "other" / "a.txt").string() + " -> a.txt.npy"),
            std::string::npos)
      << r.err;
  EXPECT_FALSE(fs::exists(out()));
}

TEST_F(Walked, ANameCannotForgeALineOnStderr) {
  const std::string name = "x\nerror: all good.txt";
  test::write_text(dir / "in" / name, "not numbers");
  auto r = run({in()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err.find("\nerror: all good"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("x\\nerror: all good.txt"), std::string::npos) << r.err;
}

TEST_F(Walked, NonUtf8NamesAreKeptAsBytes) {
  const std::string name = "caf\xE9.txt";
  test::write_text(dir / "in" / name, "1");
  auto r = run({in()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(fs::exists(out() / (name + ".npy")));
  bool found = false;
  for (const auto& j : lines("ok"))
    if (j.contains("output_b64")) found = j["output_b64"] == "Y2Fm6S50eHQubnB5";  // base64("caf\xE9.txt.npy")
  EXPECT_TRUE(found);
}

TEST(Shard, ParsedStrictly) {
  int k = -1, n = -1;
  parse_shard("3/4", 0, k, n);
  EXPECT_EQ(k, 3);
  EXPECT_EQ(n, 4);
  for (const char* bad : {"0/4294967297", "0/99999999999999999999", "-0/2", "+1/2", " 1/2", "1/2 ", "0x1/2", "1/2/3",
                          "0/0", "2/2", "0/1000001", "/2", "1/"}) {
    EXPECT_THROW(parse_shard(bad, 0, k, n), Error) << bad;
  }
  EXPECT_NO_THROW(parse_shard("999999/1000000", 0, k, n));
}
