// `featpipe run` never passes off wrong features as done: --overwrite with
// another pipeline leaves none of the old outputs listed, --resume redoes
// changed inputs and damaged outputs, the manifest holds one whole line per
// input after a run, a manifest line that cannot be written fails the run,
// and provenance is compared on meaning.
#include "test_support.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <map>

using namespace featpipe;
using nlohmann::json;

namespace {

class Trust : public ::testing::Test {
 protected:
  void SetUp() override {
    pipeline("p.yaml", "double", "2");
    test::write_text(dir / "in" / "sub" / "a.txt", "1 2 3");
    test::write_text(dir / "in" / "b.txt", "4 5");
  }
  void pipeline(const std::string& file, const std::string& name, const std::string& factor, const std::string& extra = "") {
    test::write_text(dir / file, "featpipe: 1\nname: " + name + "\n" + extra + "stages:\n  - use: test.read\n  - use: test.gain\n    with: {factor: " +
                                     factor + "}\n");
  }
  test::CmdResult run(std::vector<std::string> extra, const std::string& pipeline = "p.yaml") {
    std::vector<std::string> args = {"run", (dir / pipeline).string(), (dir / "in").string(), "-o", out().string(),
                                     "--plugin", FIXTURE_STAGES, "-q"};
    args.insert(args.end(), extra.begin(), extra.end());
    return test::run_cli(args);
  }
  fs::path out() const { return dir / "out"; }
  // Every line of every manifest in the folder; torn ones counted apart.
  std::vector<json> lines(int* torn = nullptr) const {
    std::vector<json> all;
    for (const auto& f : fs::directory_iterator(out())) {
      if (f.path().extension() != ".jsonl") continue;
      std::istringstream is(test::read_text(f.path()));
      for (std::string line; std::getline(is, line);) {
        json j = json::parse(line, nullptr, false);
        if (!j.is_discarded()) all.push_back(j);
        else if (torn) ++*torn;
      }
    }
    return all;
  }
  std::vector<float> features(const std::string& output) const { return npy::read((out() / output).string()).data; }
  // A later modification time than any earlier write, whatever the
  // file system's timestamp granularity.
  void touch_later(const fs::path& p) { fs::last_write_time(p, fs::last_write_time(p) + std::chrono::seconds(5)); }
  test::TempDir dir;
};

}  // namespace

TEST_F(Trust, OverwriteWithAnotherPipelineThenResumeMixesNothing) {
  ASSERT_EQ(run({}).exit_code, 0);  // A: x2
  pipeline("q.yaml", "triple", "3");
  // B --overwrite fails on b (a broken input), so A's b.txt.npy would survive.
  test::write_text(dir / "in" / "b.txt", "corrupt");
  auto r = run({"--overwrite"}, "q.yaml");
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_FALSE(fs::exists(out() / "b.txt.npy")) << "A's output of b stays beside B's";
  test::write_text(dir / "in" / "b.txt", "4 5");
  r = run({"--resume"}, "q.yaml");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // Every output any manifest calls ok is B's (x3).
  std::map<std::string, std::vector<float>> want = {{"sub/a.txt.npy", {3, 6, 9}}, {"b.txt.npy", {12, 15}}};
  for (const auto& e : lines()) {
    ASSERT_EQ(e["status"], "ok") << e.dump();
    EXPECT_EQ(features(e["output"]), want.at(e["output"])) << e.dump();
  }
  EXPECT_EQ(json::parse(test::read_text(out() / "provenance.json"))["pipeline"]["name"], "triple");
}

TEST_F(Trust, OverwriteRemovesOnlyFilesInsideTheFolder) {
  ASSERT_EQ(run({}).exit_code, 0);
  test::write_text(dir / "victim.txt", "keep me");
  std::ofstream(out() / "manifest.jsonl", std::ios::app)
      << "{\"error\":null,\"input\":\"x\",\"output\":\"../victim.txt\",\"seconds\":0,\"status\":\"ok\"}\n"
      << "{\"error\":null,\"input\":\"x\",\"output\":\"" << (dir / "victim.txt").string() << "\",\"seconds\":0,\"status\":\"ok\"}\n";
  pipeline("q.yaml", "triple", "3");
  ASSERT_EQ(run({"--overwrite"}, "q.yaml").exit_code, 0);
  EXPECT_TRUE(fs::exists(dir / "victim.txt"));
}

TEST_F(Trust, OverwriteClearsEveryShardsOutputsOfTheOtherPipeline) {
  for (int k = 0; k < 8; ++k) test::write_text(dir / "in" / ("f" + std::to_string(k) + ".txt"), std::to_string(k));
  for (int k = 0; k < 2; ++k) ASSERT_EQ(run({"--shard", std::to_string(k) + "/2"}).exit_code, 0);
  pipeline("q.yaml", "triple", "3");
  // Only shard 0 of B runs: shard 1's outputs of A must not stay listed ok.
  ASSERT_EQ(run({"--shard", "0/2", "--overwrite"}, "q.yaml").exit_code, 0);
  EXPECT_FALSE(fs::exists(out() / "manifest-1-of-2.jsonl"));
  for (const auto& e : lines()) {
    ASSERT_EQ(e["status"], "ok") << e.dump();
    const auto f = features(e["output"]);
    ASSERT_FALSE(f.empty());
    const std::string in = test::read_text(dir / "in" / e["output"].get<std::string>().substr(0, e["output"].get<std::string>().size() - 4));
    EXPECT_FLOAT_EQ(f[0], 3 * std::stof(in)) << e.dump();
  }
  size_t npy = 0;
  for (const auto& f : fs::recursive_directory_iterator(out())) npy += f.path().extension() == ".npy";
  EXPECT_EQ(npy, lines().size()) << "outputs of A left on disk beside B's";
}

TEST_F(Trust, ResumeRedoesAReplacedInput) {
  ASSERT_EQ(run({}).exit_code, 0);
  test::write_text(dir / "in" / "b.txt", "6 7");  // same size
  touch_later(dir / "in" / "b.txt");
  auto r = run({"--resume"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(features("b.txt.npy"), (std::vector<float>{12, 14}));
  EXPECT_EQ(features("sub/a.txt.npy"), (std::vector<float>{2, 4, 6}));
}

TEST_F(Trust, ResumeRedoesATruncatedOrDamagedOutput) {
  ASSERT_EQ(run({}).exit_code, 0);
  fs::resize_file(out() / "b.txt.npy", 0);
  auto r = run({"--resume"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(features("b.txt.npy"), (std::vector<float>{8, 10}));
  // Same size, another header: redone too.
  const auto size = fs::file_size(out() / "sub" / "a.txt.npy");
  test::write_text(out() / "sub" / "a.txt.npy", std::string(size, 'x'));
  r = run({"--resume"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(features("sub/a.txt.npy"), (std::vector<float>{2, 4, 6}));
  EXPECT_NE(r.err.find("2 inputs: 1 ok, 0 failed, 1 skipped"), std::string::npos) << r.err;
  // Same size, same header, other values (a script that normalized in place): redone.
  test::write_npy(out() / "b.txt.npy", {2}, {0, 0});
  r = run({"--resume"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(features("b.txt.npy"), (std::vector<float>{8, 10}));
}

TEST_F(Trust, ResumeDoesNotTrustALineWithoutIdentity) {
  ASSERT_EQ(run({}).exit_code, 0);
  // An ok line as an older featpipe wrote it, for an output since replaced.
  test::write_text(out() / "manifest.jsonl",
                   "{\"axes\":[\"time\"],\"error\":null,\"input\":\"x\",\"output\":\"b.txt.npy\",\"seconds\":0,\"shape\":[2],\"status\":\"ok\"}\n");
  test::write_npy(out() / "b.txt.npy", {2}, {0, 0});
  ASSERT_EQ(run({"--resume"}).exit_code, 0);
  EXPECT_EQ(features("b.txt.npy"), (std::vector<float>{8, 10}));
}

TEST_F(Trust, APlainRunOverAnOutOfDateOutputTakesBackItsOkLine) {
  ASSERT_EQ(run({}).exit_code, 0);
  test::write_text(dir / "in" / "b.txt", "6 7");  // b changed since; a did not
  touch_later(dir / "in" / "b.txt");
  auto r = run({});  // neither --resume nor --overwrite: both refused
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("b.txt.npy exists but is out of date (input changed)"), std::string::npos) << r.err;
  std::map<std::string, std::string> status;
  for (const auto& e : lines()) status[e["output"]] = e["status"];
  EXPECT_EQ(status["sub/a.txt.npy"], "ok");   // refused, but still what its input makes
  EXPECT_EQ(status["b.txt.npy"], "error");    // no longer listed as ok
}

TEST_F(Trust, AnOverwriteKilledWhileClearingIsFinishedByTheNextRun) {
  ASSERT_EQ(run({}).exit_code, 0);
  // What a --overwrite killed midway leaves: the manifest set aside as a
  // journal, one listed output (of the other pipeline) not yet removed.
  test::write_npy(out() / "old.txt.npy", {1}, {7});
  std::ofstream(out() / "manifest.jsonl", std::ios::app)
      << "{\"axes\":[\"time\"],\"error\":null,\"input\":\"x\",\"output\":\"old.txt.npy\",\"seconds\":0,\"shape\":[1],\"status\":\"ok\"}\n";
  fs::rename(out() / "manifest.jsonl", out() / ".manifest.jsonl.clearing");
  EXPECT_TRUE(lines().empty());  // no reader sees its lines any more
  auto r = run({"--resume"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_FALSE(fs::exists(out() / "old.txt.npy"));
  EXPECT_FALSE(fs::exists(out() / ".manifest.jsonl.clearing"));
  EXPECT_EQ(features("b.txt.npy"), (std::vector<float>{8, 10}));
}

TEST_F(Trust, ManifestHoldsOneWholeLinePerInputAfterEachRun) {
  ASSERT_EQ(run({}).exit_code, 0);
  for (int k = 0; k < 3; ++k) ASSERT_EQ(run({"--resume"}).exit_code, 0);
  std::ofstream(out() / "manifest.jsonl", std::ios::app) << "{\"input\": \"x\", \"outp";  // a killed run's torn line
  fs::remove(out() / "b.txt.npy");
  ASSERT_EQ(run({"--resume"}).exit_code, 0);
  ASSERT_EQ(run({"--overwrite"}).exit_code, 0);
  int torn = 0;
  auto m = lines(&torn);
  EXPECT_EQ(torn, 0);
  ASSERT_EQ(m.size(), 2u);
  for (const auto& e : m) {
    EXPECT_EQ(e["status"], "ok") << e.dump();
    EXPECT_TRUE(e.contains("input_bytes") && e.contains("input_mtime_ns") && e.contains("output_bytes")) << e.dump();
    // The output's digest is XXH3-64 as the reference tool computes it.
    auto x = test::run_shell("xxhsum -H3 " + test::quote((out() / e["output"].get<std::string>()).string()));
    ASSERT_EQ(x.exit_code, 0) << x.err;
    EXPECT_NE(x.out.find("= " + e["output_xxh3"].get<std::string>()), std::string::npos) << x.out << e.dump();
  }
}

TEST_F(Trust, AManifestLineThatCannotBeWrittenFailsTheRun) {
  fs::create_directories(out());
  fs::create_symlink("/dev/full", out() / "manifest.jsonl");  // every write: ENOSPC
  auto r = run({});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("cannot append to the manifest: No space left on device"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("2 inputs: 0 ok, 2 failed"), std::string::npos) << r.err;
}

TEST_F(Trust, ProvenanceIsComparedOnMeaning) {
  ASSERT_EQ(run({}).exit_code, 0);
  // A comment and another spelling of the same number: resumable.
  test::write_text(dir / "p2.yaml", "# the same features\nfeatpipe: 1\nname: double\nstages:\n  - use: test.read\n  - use: test.gain\n"
                                    "    with: {factor: 2.0e0}  # x2\n");
  auto r = run({"--resume"}, "p2.yaml");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("2 skipped"), std::string::npos) << r.err;
  // Another value: refused, naming the step and the parameter.
  pipeline("q.yaml", "double", "3");
  r = run({"--resume"}, "q.yaml");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("step 2 'test.gain' parameter factor: 2"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("-> 3"), std::string::npos) << r.err;
}
