// The run record (run-K-of-N.json) that `featpipe status` reads: staged
// under a temporary name until placed, read back as written, ended only by
// finish().
#include "test_support.hpp"

#include "batch/provenance.hpp"
#include "batch/run_record.hpp"

#include <featpipe/featpipe.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>

namespace fs = std::filesystem;
using namespace featpipe;

namespace {
RunRecord sample() {
  RunRecord r;
  r.shard_index = 2;
  r.shard_count = 4;
  r.planned = {"in/a.wav", "in/caf\xe9.wav"};  // the second is not UTF-8
  r.provenance = R"({"featpipe_version":"0.1.0","steps":[{"use":"audio.decode"}]})";
  r.command = {"featpipe", "run", "p.yaml", "in", "-o", "out", "--shard", "auto"};
  r.cwd = "/work";
  r.host = "node7";
  r.pid = 4242;
  r.started = "2026-12-01T15:00:00Z";
  return r;
}

std::vector<std::string> names_in(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}
}  // namespace

TEST(RunRecord, Names) {
  EXPECT_EQ(run_record_name(0, 1), "run.json");
  EXPECT_EQ(run_record_name(3, 16), "run-3-of-16.json");
}

TEST(RunRecord, StagedUntilPlacedAndGoneWhenNot) {
  test::TempDir dir;
  {
    RunRecorder staged(dir.path(), sample());
    const auto names = names_in(dir.path());
    ASSERT_EQ(names.size(), 1u);
    EXPECT_EQ(names[0].rfind(".run-2-of-4.json.tmp-", 0), 0u) << names[0];
  }
  EXPECT_TRUE(names_in(dir.path()).empty()) << "a record never placed (a refused run) must leave nothing";
}

TEST(RunRecord, ReadBackAsWrittenAndEndedByFinish) {
  test::TempDir dir;
  RunRecorder rec(dir.path(), sample());
  rec.place();
  EXPECT_EQ(names_in(dir.path()), std::vector<std::string>{"run-2-of-4.json"});
  const fs::path file = dir.path() / "run-2-of-4.json";
  RunRecord r = read_run_record(file);
  EXPECT_EQ(r.shard_index, 2);
  EXPECT_EQ(r.shard_count, 4);
  EXPECT_EQ(r.planned, (std::vector<std::string>{"in/a.wav", "in/caf\xef\xbf\xbd.wav"}));
  EXPECT_EQ(r.command, sample().command);
  EXPECT_EQ(r.host, "node7");
  EXPECT_EQ(r.pid, 4242);
  EXPECT_EQ(r.started, "2026-12-01T15:00:00Z");
  EXPECT_TRUE(r.ended.empty());
  EXPECT_EQ(provenance_difference(sample().provenance, r.provenance), "");

  rec.finish(5, 2, 1);
  r = read_run_record(file);
  EXPECT_FALSE(r.ended.empty());
  EXPECT_EQ(r.ok, 5);
  EXPECT_EQ(r.skipped, 2);
  EXPECT_EQ(r.failed, 1);
}

TEST(RunRecord, NotARecordIsRefusedByName) {
  test::TempDir dir;
  const fs::path file = dir.path() / "run.json";
  std::ofstream(file) << R"({"some": "other json"})";
  try {
    read_run_record(file);
    FAIL() << "read";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("not a featpipe run record"), std::string::npos) << e.what();
  }
  std::ofstream(file) << R"({"featpipe_run_record": 1, "shard": 4, "shard_count": 4, "inputs": []})";
  EXPECT_THROW(read_run_record(file), Error);
}
