// `featpipe run`: outputs, manifest, provenance, exit codes, resume,
// overwrite, shards, bad inputs among good ones, unwritable outputs.
#include "test_support.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <cstdio>
#include <cstring>
#include <set>

using namespace featpipe;
using nlohmann::json;

namespace {

class Run : public ::testing::Test {
 protected:
  void SetUp() override {
    test::write_text(dir / "p.yaml",
                     "featpipe: 1\nname: double\nstages:\n  - use: test.read\n  - use: test.gain\n    with: {factor: 2}\n");
    test::write_text(dir / "in" / "sub" / "a.txt", "1 2 3");
    test::write_text(dir / "in" / "b.txt", "4 5");
    test::write_text(dir / "in" / "notes.md", "not an input");
  }
  test::CmdResult run(std::vector<std::string> extra, const std::string& pipeline = "p.yaml") {
    std::vector<std::string> args = {"run", (dir / pipeline).string(), (dir / "in").string(), "-o", out().string(),
                                     "--plugin", FIXTURE_STAGES, "-q"};
    args.insert(args.end(), extra.begin(), extra.end());
    return test::run_cli(args);
  }
  fs::path out() const { return dir / "out"; }
  mutable int torn = 0;
  // The lines of inputs taken: those of paths not taken ("status":
  // "not_taken", such as notes.md) are walk_test's.
  std::vector<json> manifest(const std::string& name = "manifest.jsonl") const {
    std::vector<json> lines;
    std::istringstream is(test::read_text(out() / name));
    for (std::string line; std::getline(is, line);) {
      json j = json::parse(line, nullptr, false);
      if (j.is_discarded()) ++torn;  // a torn line (killed run) is skipped
      else if (!(j.is_object() && j.value("status", "") == "not_taken")) lines.push_back(j);
    }
    return lines;
  }
  test::TempDir dir;
};

}  // namespace

TEST_F(Run, WritesFeaturesManifestAndProvenance) {
  auto r = run({});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  npy::Array a = npy::read((out() / "sub" / "a.txt.npy").string());
  EXPECT_EQ(a.shape, (std::vector<int64_t>{3}));
  EXPECT_EQ(a.data, (std::vector<float>{2, 4, 6}));
  EXPECT_EQ(npy::read((out() / "b.txt.npy").string()).data, (std::vector<float>{8, 10}));
  EXPECT_FALSE(fs::exists(out() / "notes.md.npy"));
  EXPECT_NE(r.err.find("2 inputs: 2 ok, 0 failed, 0 skipped (1 other file not taken)"), std::string::npos) << r.err;

  auto m = manifest();
  ASSERT_EQ(m.size(), 2u);
  std::set<std::string> outputs;
  for (const auto& e : m) {
    EXPECT_EQ(e["status"], "ok");
    EXPECT_TRUE(e["error"].is_null());
    EXPECT_EQ(e["axes"], json::array({"time"}));
    EXPECT_TRUE(e["seconds"].is_number());
    outputs.insert(e["output"].get<std::string>());
    if (e["output"] == "sub/a.txt.npy") {
      EXPECT_EQ(e["shape"], json::array({3}));
      EXPECT_EQ(e["input"], (dir / "in" / "sub" / "a.txt").string());
    }
  }
  EXPECT_EQ(outputs, (std::set<std::string>{"sub/a.txt.npy", "b.txt.npy"}));

  json prov = json::parse(test::read_text(out() / "provenance.json"));
  EXPECT_EQ(prov["featpipe_version"], FEATPIPE_VERSION);
  auto sum = test::run_shell("sha256sum " + test::quote((dir / "p.yaml").string()));
  EXPECT_EQ(prov["pipeline"]["sha256"], sum.out.substr(0, 64));
  EXPECT_EQ(prov["steps"][1]["use"], "test.gain");
  EXPECT_EQ(prov["steps"][1]["params"]["factor"], 2.0);
  EXPECT_EQ(prov["steps"][1]["params"]["repeat"], 1);  // defaults resolved
  EXPECT_EQ(prov["plugins"][0]["version"], "9.9.9");
  EXPECT_EQ(prov["plugins"][0]["sha256"].get<std::string>().size(), 64u);
}

TEST_F(Run, ABadInputFailsAloneAndEveryOtherIsWritten) {
  test::write_text(dir / "in" / "c.txt", "7 corrupt 8");
  test::write_text(dir / "in" / "empty.txt", "");
  auto r = run({"-j", "2"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("error: " + (dir / "in" / "c.txt").string() + ": step 1 'test.read': corrupt data"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find((dir / "in" / "empty.txt").string() + ": step 1 'test.read': empty file"), std::string::npos) << r.err;
  EXPECT_TRUE(fs::exists(out() / "sub" / "a.txt.npy"));
  EXPECT_TRUE(fs::exists(out() / "b.txt.npy"));
  EXPECT_FALSE(fs::exists(out() / "c.txt.npy"));
  int errors = 0;
  for (const auto& e : manifest())
    if (e["status"] == "error") {
      ++errors;
      EXPECT_TRUE(e["error"].is_string());
    }
  EXPECT_EQ(errors, 2);
  // No temporary files left behind.
  for (const auto& e : fs::recursive_directory_iterator(out()))
    EXPECT_EQ(e.path().filename().string().find(".tmp-"), std::string::npos) << e.path();
}

TEST_F(Run, UsageAndPipelineErrorsExitTwoAndProcessNothing) {
  auto r = test::run_cli({"run", (dir / "p.yaml").string(), (dir / "nope").string(), "-o", out().string(), "--plugin", FIXTURE_STAGES});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("nope: no such file or folder"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(out() / "manifest.jsonl"));

  test::write_text(dir / "bad.yaml", "featpipe: 1\nname: x\nstages:\n  - use: test.read\n  - use: test.gain\n    with: {factor: x}\n");
  r = run({}, "bad.yaml");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("bad.yaml:6:20:"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(out() / "b.txt.npy"));

  r = test::run_cli({"run", (dir / "p.yaml").string()});
  EXPECT_EQ(r.exit_code, 2);
  r = test::run_cli({"frobnicate"});
  EXPECT_EQ(r.exit_code, 2);
}

TEST_F(Run, ExistingOutputNeedsResumeOrOverwrite) {
  ASSERT_EQ(run({}).exit_code, 0);
  auto r = run({});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("exists (use --resume"), std::string::npos) << r.err;

  r = run({"--resume"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("2 inputs: 0 ok, 0 failed, 2 skipped"), std::string::npos) << r.err;
  auto m = manifest();  // compacted: one line per input, the ok lines the skips confirmed
  ASSERT_EQ(m.size(), 2u);
  EXPECT_EQ(m[0]["status"], "ok");
  EXPECT_EQ(m[1]["status"], "ok");

  // A torn last line (a killed run) is ignored; a removed output is redone.
  std::ofstream(out() / "manifest.jsonl", std::ios::app) << "{\"input\": \"x\", \"outp";
  fs::remove(out() / "b.txt.npy");
  r = run({"--resume"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(fs::exists(out() / "b.txt.npy"));
  EXPECT_NE(r.err.find("2 inputs: 1 ok, 0 failed, 1 skipped"), std::string::npos) << r.err;
  m = manifest();  // compacted: the torn line is gone
  EXPECT_EQ(torn, 0);
  ASSERT_EQ(m.size(), 2u);
  for (const auto& e : m) EXPECT_EQ(e["status"], "ok") << e.dump();

  test::write_text(dir / "in" / "b.txt", "1");
  r = run({"--overwrite"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(npy::read((out() / "b.txt.npy").string()).data, (std::vector<float>{2}));
}

TEST_F(Run, ShardsCoverEveryInputExactlyOnce) {
  for (int k = 0; k < 20; ++k) test::write_text(dir / "in" / "many" / ("f" + std::to_string(k) + ".txt"), std::to_string(k));
  std::multiset<std::string> seen;
  for (int k = 0; k < 3; ++k) {
    auto r = run({"--shard", std::to_string(k) + "/3"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    for (const auto& e : manifest("manifest-" + std::to_string(k) + "-of-3.jsonl")) seen.insert(e["output"].get<std::string>());
  }
  EXPECT_EQ(seen.size(), 22u);
  EXPECT_EQ(std::set<std::string>(seen.begin(), seen.end()).size(), 22u);
  EXPECT_FALSE(fs::exists(out() / "manifest.jsonl"));

  // --shard auto from a Slurm array (1-based) maps to the same shards.
  test::TempDir other;
  auto r = test::run_shell("SLURM_ARRAY_TASK_ID=2 SLURM_ARRAY_TASK_MIN=1 SLURM_ARRAY_TASK_COUNT=3 " +
                           test::quote(FEATPIPE_CLI) + " run " + test::quote((dir / "p.yaml").string()) + " " +
                           test::quote((dir / "in").string()) + " -o " + test::quote(other.path().string()) +
                           " --plugin " + test::quote(FIXTURE_STAGES) + " -q --shard auto");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto outputs = [](const fs::path& manifest) {
    std::set<std::string> o;
    std::istringstream is(test::read_text(manifest));
    for (std::string line; std::getline(is, line);) o.insert(json::parse(line)["output"].get<std::string>());
    return o;
  };
  EXPECT_EQ(outputs(other / "manifest-1-of-3.jsonl"), outputs(out() / "manifest-1-of-3.jsonl"));
  EXPECT_FALSE(outputs(other / "manifest-1-of-3.jsonl").empty());
  // A Kubernetes indexed job: JOB_COMPLETION_INDEX with --shard-count.
  test::TempDir k8s;
  r = test::run_shell("JOB_COMPLETION_INDEX=2 " + test::quote(FEATPIPE_CLI) + " run " + test::quote((dir / "p.yaml").string()) +
                      " " + test::quote((dir / "in").string()) + " -o " + test::quote(k8s.path().string()) + " --plugin " +
                      test::quote(FIXTURE_STAGES) + " -q --shard auto --shard-count 3");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // The same inputs as shard 2/3 given explicitly.
  EXPECT_EQ(outputs(k8s / "manifest-2-of-3.jsonl"), outputs(out() / "manifest-2-of-3.jsonl"));
  EXPECT_FALSE(outputs(k8s / "manifest-2-of-3.jsonl").empty());
  r = test::run_shell("JOB_COMPLETION_INDEX=2 " + test::quote(FEATPIPE_CLI) + " run " + test::quote((dir / "p.yaml").string()) +
                      " " + test::quote((dir / "in").string()) + " -o " + test::quote(k8s.path().string()) + " --plugin " +
                      test::quote(FIXTURE_STAGES) + " -q --shard auto");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("needs --shard-count"), std::string::npos) << r.err;
  r = run({"--shard", "3/3"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("need 0 <= K < N"), std::string::npos) << r.err;
}

TEST_F(Run, NonFiniteOutputNamesTheStageThatMadeIt) {
  test::write_text(dir / "nan.yaml", "featpipe: 1\nname: n\nstages:\n  - use: test.read\n  - use: test.nan\n    with: {at: 5}\n  - use: test.gain\n");
  auto r = run({}, "nan.yaml");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("b.txt: step 2 'test.nan': produced a non-finite value (NaN) at element 1"), std::string::npos) << r.err;
  EXPECT_TRUE(fs::exists(out() / "sub" / "a.txt.npy"));
  EXPECT_FALSE(fs::exists(out() / "b.txt.npy"));
}

TEST_F(Run, UnwritableOutputs) {
  // The output folder cannot be made: nothing runs, exit 2.
  test::write_text(dir / "afile", "x");
  auto r = test::run_cli({"run", (dir / "p.yaml").string(), (dir / "in").string(), "-o", (dir / "afile" / "out").string(),
                          "--plugin", FIXTURE_STAGES});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("cannot create the output folder"), std::string::npos) << r.err;
  // One output's folder is blocked by a file: that input fails, the other is written.
  test::write_text(out() / "sub", "blocking file");
  r = run({});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("a.txt: cannot create folder"), std::string::npos) << r.err;
  EXPECT_TRUE(fs::exists(out() / "b.txt.npy"));
}

TEST_F(Run, ProvenanceOfAnotherPipelineIsNotMixedIn) {
  ASSERT_EQ(run({}).exit_code, 0);
  test::write_text(dir / "q.yaml", "featpipe: 1\nname: triple\nstages:\n  - use: test.read\n  - use: test.gain\n    with: {factor: 3}\n");
  auto r = run({"--resume"}, "q.yaml");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("describes features of another pipeline"), std::string::npos) << r.err;
}

TEST_F(Run, JobsGiveTheSameOutputs) {
  for (int k = 0; k < 30; ++k) test::write_text(dir / "in" / "j" / (std::to_string(k) + ".txt"), std::to_string(k) + " 1");
  ASSERT_EQ(run({"-j", "3"}).exit_code, 0);
  for (int k = 0; k < 30; ++k)
    EXPECT_EQ(npy::read((out() / "j" / (std::to_string(k) + ".txt.npy")).string()).data, (std::vector<float>{2.0f * k, 2}));
}

TEST_F(Run, NumpyReadsTheOutput) {
  if (!test::python_has("numpy")) GTEST_SKIP() << "python3-numpy not installed";
  ASSERT_EQ(run({}).exit_code, 0);
  auto r = test::run_shell(test::quote(test::python()) + " -c " +
                           test::quote("import numpy as np, sys; a = np.load(sys.argv[1]); "
                                       "assert a.dtype == np.dtype('<f4') and a.flags.c_contiguous; print(a.shape, a.tolist())") +
                           " " + test::quote((out() / "sub" / "a.txt.npy").string()));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "(3,) [2.0, 4.0, 6.0]\n");
}

TEST_F(Run, RelativePathsKeptHoweverTheFolderIsSpelled) {
  for (const std::string spelled : {"in/", "in/../in", "./in"}) {
    test::TempDir o;
    auto r = test::run_shell("cd " + test::quote(dir.path().string()) + " && " + test::quote(FEATPIPE_CLI) + " run p.yaml " +
                             test::quote(spelled) + " -o " + test::quote(o.path().string()) + " --plugin " +
                             test::quote(FIXTURE_STAGES) + " -q");
    ASSERT_EQ(r.exit_code, 0) << spelled << ": " << r.err;
    EXPECT_TRUE(fs::exists(o / "sub" / "a.txt.npy")) << spelled;
    EXPECT_TRUE(fs::exists(o / "b.txt.npy")) << spelled;
  }
}

// Tar shards written while workers run as threads (ThreadSanitizer runs
// this, CLI included): every input once, ok, in a shard that holds it.
TEST_F(Run, TarShardsFromThreadWorkersHoldEveryInputOnce) {
  for (int k = 0; k < 40; ++k) test::write_text(dir / "in" / "j" / (std::to_string(k) + ".txt"), std::to_string(k) + " 1");
  for (const std::string isolation : {"thread", "process"}) {
    fs::remove_all(out());
    ASSERT_EQ(run({"-j", "3", "--isolation", isolation, "--output-format", "tar", "--shard-size", "7"}).exit_code, 0);
    std::multiset<std::string> listed;
    for (const auto& e : fs::directory_iterator(out())) {
      if (e.path().extension() != ".tar") continue;
      FILE* p = ::popen(("tar -tf '" + e.path().string() + "'").c_str(), "r");
      ASSERT_NE(p, nullptr);
      char line[512];
      while (std::fgets(line, sizeof line, p)) listed.insert(e.path().filename().string() + "#" + std::strtok(line, "\n"));
      ASSERT_EQ(::pclose(p), 0);
    }
    std::multiset<std::string> recorded;
    for (const json& j : manifest()) {
      EXPECT_EQ(j["status"], "ok") << j.dump();
      recorded.insert(j["output"].get<std::string>());
    }
    EXPECT_EQ(recorded.size(), 42u) << isolation;  // 40 + a.txt + b.txt
    EXPECT_EQ(listed, recorded) << isolation;
  }
}
