// `featpipe run` with worker processes: an input that crashes a stage,
// aborts, or exhausts memory fails alone (signal and step in the manifest
// and on stderr), the others are written, --resume does not crash either,
// and a killed run leaves nothing the next run does not clean.
#include "test_support.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <cstdlib>
#include <map>

using namespace featpipe;
using nlohmann::json;

namespace {

// Under AddressSanitizer a worker's SIGSEGV would be caught by ASan (a
// report, then exit 1): the CLI's workers are told to die of it, as
// without a sanitizer, which is what these tests are about.
void let_workers_crash() {
#if defined(__SANITIZE_ADDRESS__)
  const char* was = std::getenv("ASAN_OPTIONS");
  ::setenv("ASAN_OPTIONS", ((was && *was ? std::string(was) + ":" : std::string()) + "handle_segv=0").c_str(), 1);
#endif
}

// The per-worker memory cap is an address-space limit, which ASan's shadow
// memory cannot live under (the engine lifts the cap in such builds): said,
// not hidden, when the suite runs under ASan.
#if defined(__SANITIZE_ADDRESS__)
#define SKIP_UNDER_ASAN_MEMORY_CAP() \
  GTEST_SKIP() << "not under AddressSanitizer: its shadow memory needs an unlimited address space, so the cap is lifted"
#else
#define SKIP_UNDER_ASAN_MEMORY_CAP() (void)0
#endif

class Isolation : public ::testing::Test {
 protected:
  void SetUp() override {
    let_workers_crash();
    test::write_text(dir / "p.yaml", "featpipe: 1\nname: trap\nstages:\n  - use: test.read\n  - use: test.trap\n"
                                     "  - use: test.gain\n    with: {factor: 2}\n");
    for (int k = 0; k < 4; ++k) test::write_text(dir / "in" / ("good" + std::to_string(k) + ".txt"), std::to_string(k + 1) + " 7");
  }
  test::CmdResult run(std::vector<std::string> extra) {
    std::vector<std::string> args = {"run", (dir / "p.yaml").string(), (dir / "in").string(), "-o", out().string(),
                                     "--plugin", FIXTURE_STAGES, "-q"};
    args.insert(args.end(), extra.begin(), extra.end());
    return test::run_cli(args);
  }
  fs::path out() const { return dir / "out"; }
  std::string in(const std::string& name) const { return (dir / "in" / name).string(); }
  // The last manifest line per input.
  std::map<std::string, json> manifest() const {
    std::map<std::string, json> by_input;
    std::istringstream is(test::read_text(out() / "manifest.jsonl"));
    for (std::string line; std::getline(is, line);) {
      json j = json::parse(line);
      by_input[j["input"].get<std::string>()] = j;
    }
    return by_input;
  }
  void expect_good_outputs() const {
    for (int k = 0; k < 4; ++k) {
      const fs::path o = out() / ("good" + std::to_string(k) + ".txt.npy");
      ASSERT_TRUE(fs::exists(o)) << o;
      EXPECT_EQ(npy::read(o.string()).data, (std::vector<float>{2.0f * (k + 1), 14}));
    }
  }
  std::vector<std::string> temp_files() const {
    std::vector<std::string> found;
    for (const auto& e : fs::recursive_directory_iterator(out()))
      if (e.path().filename().string().find(".tmp-") != std::string::npos) found.push_back(e.path().string());
    return found;
  }
  test::TempDir dir;
};

}  // namespace

TEST_F(Isolation, ACrashingInputFailsAloneWithItsSignalAndStep) {
  test::write_text(dir / "in" / "segv.txt", "1 -1 2");
  test::write_text(dir / "in" / "abort.txt", "-2");
  auto r = run({"-j", "1"});
  ASSERT_EQ(r.exit_code, 1) << r.err;
  expect_good_outputs();
  EXPECT_FALSE(fs::exists(out() / "segv.txt.npy"));
  EXPECT_NE(r.err.find("error: " + in("segv.txt") + ": the worker process crashed: SIGSEGV"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("error: " + in("abort.txt") + ": the worker process crashed: SIGABRT"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("6 inputs: 4 ok, 2 failed, 0 skipped"), std::string::npos) << r.err;
  auto m = manifest();
  ASSERT_EQ(m.size(), 6u);
  EXPECT_EQ(m[in("segv.txt")]["status"], "error");
  EXPECT_NE(m[in("segv.txt")]["error"].get<std::string>().find("SIGSEGV (signal 11, Segmentation fault) in step 2 'test.trap'"),
            std::string::npos) << m[in("segv.txt")];
  EXPECT_NE(m[in("abort.txt")]["error"].get<std::string>().find("SIGABRT"), std::string::npos) << m[in("abort.txt")];
  EXPECT_EQ(m[in("good0.txt")]["status"], "ok");

  // --resume retries only the two, which crash again: still no crash of the run.
  auto again = run({"--resume"});
  ASSERT_EQ(again.exit_code, 1) << again.err;
  EXPECT_NE(again.err.find("6 inputs: 0 ok, 2 failed, 4 skipped"), std::string::npos) << again.err;
  EXPECT_NE(again.err.find(in("segv.txt") + ": the worker process crashed: SIGSEGV"), std::string::npos) << again.err;
  expect_good_outputs();
}

TEST_F(Isolation, TwoWorkersTwoCrashesEveryGoodInputWritten) {
  test::write_text(dir / "in" / "segv1.txt", "-1");
  test::write_text(dir / "in" / "segv2.txt", "3 -1");
  for (int k = 0; k < 6; ++k) test::write_text(dir / "in" / "more" / (std::to_string(k) + ".txt"), std::to_string(k));
  auto r = run({"-j", "2"});
  ASSERT_EQ(r.exit_code, 1) << r.err;
  expect_good_outputs();
  for (int k = 0; k < 6; ++k)
    EXPECT_EQ(npy::read((out() / "more" / (std::to_string(k) + ".txt.npy")).string()).data, (std::vector<float>{2.0f * k}));
  EXPECT_NE(r.err.find("12 inputs: 10 ok, 2 failed, 0 skipped"), std::string::npos) << r.err;
  auto m = manifest();
  ASSERT_EQ(m.size(), 12u);
  for (const char* bad : {"segv1.txt", "segv2.txt"}) {
    EXPECT_EQ(m[in(bad)]["status"], "error");
    EXPECT_NE(m[in(bad)]["error"].get<std::string>().find("SIGSEGV"), std::string::npos) << m[in(bad)];
  }
  EXPECT_TRUE(temp_files().empty());
}

TEST_F(Isolation, AnInputOverTheMemoryLimitFailsAloneSayingSo) {
  SKIP_UNDER_ASAN_MEMORY_CAP();
  test::write_text(dir / "in" / "hog.txt", "5 -3");
  auto r = run({"-j", "2", "--max-memory", "1G"});
  ASSERT_EQ(r.exit_code, 1) << r.err;
  expect_good_outputs();
  EXPECT_FALSE(fs::exists(out() / "hog.txt.npy"));
  const std::string says = "exceeded the per-worker memory limit of 1 GiB in step 2 'test.trap'";
  EXPECT_NE(r.err.find("error: " + in("hog.txt") + ": " + says), std::string::npos) << r.err;
  auto m = manifest();
  EXPECT_NE(m[in("hog.txt")]["error"].get<std::string>().find(says), std::string::npos) << m[in("hog.txt")];

  auto again = run({"--resume", "--max-memory", "1G"});
  EXPECT_EQ(again.exit_code, 1) << again.err;
  EXPECT_NE(again.err.find("5 inputs: 0 ok, 1 failed, 4 skipped"), std::string::npos) << again.err;
}

TEST_F(Isolation, ThreadsStaySelectableAndSizesAreChecked) {
  auto r = run({"-j", "2", "--isolation", "thread"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  expect_good_outputs();
  auto bad = run({"--max-memory", "lots", "--overwrite"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("--max-memory lots: expected a size such as 4G"), std::string::npos) << bad.err;
  auto none = run({"--max-memory", "none", "--overwrite"});
  EXPECT_EQ(none.exit_code, 0) << none.err;
}

TEST_F(Isolation, AKilledRunLeavesNothingTheNextRunDoesNotClean) {
  test::write_text(dir / "in" / "slow.txt", "-4");
  // Run in the background; once the good inputs are written, kill -9 it
  // while a worker hangs on the slow one.
  std::string cmd = test::quote(FEATPIPE_CLI) + " run " + test::quote((dir / "p.yaml").string()) + " " +
                    test::quote((dir / "in").string()) + " -o " + test::quote(out().string()) + " --plugin " +
                    test::quote(FIXTURE_STAGES) + " -q -j 2 & pid=$!; for i in $(seq 600); do [ $(ls " +
                    test::quote(out().string()) + " 2>/dev/null | grep -c 'good.*npy$') -ge 4 ] && break; sleep 0.05; done; " +
                    "kill -9 $pid; wait $pid; echo killed $?";
  auto k = test::run_shell(cmd);
  ASSERT_NE(k.out.find("killed 137"), std::string::npos) << k.out << k.err;
  // Its workers go with it (they hold the output folder's path in their
  // command line; "[/]tmp..." so that the pattern does not find this shell).
  const std::string o = out().string(), pattern = "[" + o.substr(0, 1) + "]" + o.substr(1);
  auto left = test::run_shell("for i in $(seq 100); do pgrep -f " + test::quote(pattern) +
                              " >/dev/null || { echo none; exit; }; sleep 0.05; done; pgrep -af " + test::quote(pattern));
  EXPECT_NE(left.out.find("none"), std::string::npos) << "workers outlived the run: " << left.out;
  // What a kill during a write leaves: a temporary file of a dead process
  // on this host. One of a shard on another machine (its pid means nothing
  // here) must stay.
  test::write_text(out() / ".slow.txt.npy.tmp-999999-1", "partial");
  test::write_text(out() / ".elsewhere.txt.npy.tmp-999999-0@another-host", "another machine's shard's");
  test::write_text(dir / "in" / "slow.txt", "9");
  auto r = run({"--resume"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  expect_good_outputs();
  EXPECT_EQ(npy::read((out() / "slow.txt.npy").string()).data, (std::vector<float>{18}));
  EXPECT_EQ(temp_files(), (std::vector<std::string>{(out() / ".elsewhere.txt.npy.tmp-999999-0@another-host").string()}));
}

TEST_F(Isolation, ALowerLimitAlreadyInForceIsKeptAndNamed) {
  SKIP_UNDER_ASAN_MEMORY_CAP();
  // ulimit -v 2000000 (KiB): the workers cannot raise it to --max-memory 8G.
  test::write_text(dir / "in" / "hog.txt", "-3");
  auto r = test::run_shell("ulimit -v 2000000; " + test::quote(FEATPIPE_CLI) + " run " + test::quote((dir / "p.yaml").string()) +
                           " " + test::quote((dir / "in").string()) + " -o " + test::quote(out().string()) +
                           " --plugin " + test::quote(FIXTURE_STAGES) + " -q --max-memory 8G");
  ASSERT_EQ(r.exit_code, 1) << r.err;
  expect_good_outputs();
  EXPECT_NE(r.err.find(in("hog.txt") + ": exceeded the per-worker memory limit of 1.9 GiB in step 2 'test.trap'"),
            std::string::npos) << r.err;
}
