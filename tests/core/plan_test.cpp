// Planning a batch run: shards, output-name collisions, resume and
// overwrite decisions, all without running anything.
#include "batch_support.hpp"
#include "test_support.hpp"

#include "batch/plan.hpp"

#include <gtest/gtest.h>

#include <set>

using namespace featpipe;
using Action = Job::Action;

namespace {

InputList inputs(std::initializer_list<std::pair<std::string, std::string>> files) {
  InputList l;
  for (const auto& [path, rel] : files) l.files.push_back({path, rel});
  return l;
}

ManifestEntry entry(const std::string& output, ManifestEntry::Status s) {
  ManifestEntry e;
  e.input = "/somewhere/" + output;
  e.output = output;
  e.status = s;
  return e;
}

}  // namespace

TEST(Plan, EveryInputRunsInListingOrderWithTheSinksOutputName) {
  test::MemorySink sink;
  InputList l = inputs({{"in/b.txt", "b.txt"}, {"in/sub/a.txt", "sub/a.txt"}});
  l.not_taken = 3;
  Plan p = plan_jobs(l, {}, sink, {});
  ASSERT_EQ(p.jobs.size(), 2u);
  EXPECT_EQ(p.not_taken, 3u);
  EXPECT_EQ(p.jobs[0].input, "in/b.txt");
  EXPECT_EQ(p.jobs[0].rel, "b.txt");
  EXPECT_EQ(p.jobs[0].output, "b.txt.mem");
  EXPECT_EQ(p.jobs[1].output, "sub/a.txt.mem");
  for (const Job& j : p.jobs) {
    EXPECT_EQ(j.action, Action::run);
    EXPECT_TRUE(j.error.empty());
  }
}

TEST(Plan, ShardsPartitionTheInputsByRelativePath) {
  InputList l;
  for (int k = 0; k < 50; ++k) l.files.push_back({"/a/" + std::to_string(k) + ".wav", std::to_string(k) + ".wav"});
  test::MemorySink sink;
  std::multiset<std::string> seen;
  for (int s = 0; s < 4; ++s) {
    PlanOptions o;
    o.shard_index = s;
    o.shard_count = 4;
    Plan p = plan_jobs(l, o, sink, {});
    EXPECT_LT(p.jobs.size(), 50u) << "shard " << s << " took everything";
    for (const Job& j : p.jobs) {
      EXPECT_TRUE(in_shard(j.rel, s, 4));
      seen.insert(j.rel);
    }
  }
  EXPECT_EQ(seen.size(), 50u);
  EXPECT_EQ(std::set<std::string>(seen.begin(), seen.end()).size(), 50u);
  // The shard depends on the relative path only, not where the folder is.
  for (int k = 0; k < 50; ++k) {
    const std::string rel = std::to_string(k) + ".wav";
    int owners = 0;
    for (int s = 0; s < 4; ++s) owners += in_shard(rel, s, 4);
    EXPECT_EQ(owners, 1) << rel;
  }
  EXPECT_TRUE(in_shard("anything", 0, 1));
}

TEST(Plan, ShardOfAFileIsStable) {
  // The shard is FNV-1a 64 of the relative path mod N, so shards on other
  // machines and builds agree. The engine's offset basis lacks the
  // standard's last digit (14695981039346656037); kept, since changing it
  // would move files between the shards of jobs already half done.
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : std::string("x.wav")) h = (h ^ c) * 0x100000001b3ull;
  for (int n : {2, 3, 7})
    for (int s = 0; s < n; ++s) EXPECT_EQ(in_shard("x.wav", s, n), h % n == static_cast<uint64_t>(s)) << s << "/" << n;
}

TEST(Plan, TheLaterOfTwoInputsWithOneOutputFailsNamingTheFirst) {
  test::MemorySink sink;
  Plan p = plan_jobs(inputs({{"a/x.wav", "x.wav"}, {"a/y.wav", "y.wav"}, {"b/x.wav", "x.wav"}, {"c/x.wav", "x.wav"}}), {},
                     sink, {});
  ASSERT_EQ(p.jobs.size(), 4u);
  EXPECT_EQ(p.jobs[0].action, Action::run);
  EXPECT_EQ(p.jobs[1].action, Action::run);
  for (size_t k : {2u, 3u}) {
    EXPECT_EQ(p.jobs[k].action, Action::fail);
    EXPECT_EQ(p.jobs[k].error, "its output x.wav.mem is also that of a/x.wav (same relative path)");
  }
}

TEST(Plan, ACollisionFailsEvenWhenTheOutputExists) {
  test::MemorySink sink;
  sink.existing = {"x.wav.mem"};
  PlanOptions o;
  o.overwrite = true;
  Plan p = plan_jobs(inputs({{"a/x.wav", "x.wav"}, {"b/x.wav", "x.wav"}}), o, sink, {});
  EXPECT_EQ(p.jobs[0].action, Action::run);
  EXPECT_EQ(p.jobs[1].action, Action::fail);
  EXPECT_NE(p.jobs[1].error.find("same relative path"), std::string::npos);
}

TEST(Plan, AnExistingOutputFailsUnlessResumingOrOverwriting) {
  test::MemorySink sink;
  sink.existing = {"old.wav.mem"};
  const InputList l = inputs({{"in/old.wav", "old.wav"}, {"in/new.wav", "new.wav"}});
  Plan p = plan_jobs(l, {}, sink, {});
  EXPECT_EQ(p.jobs[0].action, Action::fail);
  EXPECT_EQ(p.jobs[0].error, "output mem:old.wav.mem exists (use --resume to skip finished inputs or --overwrite)");
  EXPECT_EQ(p.jobs[1].action, Action::run);

  PlanOptions o;
  o.overwrite = true;
  p = plan_jobs(l, o, sink, {});
  EXPECT_EQ(p.jobs[0].action, Action::run);
  EXPECT_EQ(p.jobs[1].action, Action::run);
}

TEST(Plan, ResumeSkipsOnlyOutputsThatExistAndAreDone) {
  test::MemorySink sink;
  sink.existing = {"done.wav.mem", "unlisted.wav.mem", "failed.wav.mem"};
  // Done means an ok line recording the input as it still is.
  test::TempDir dir;
  const std::string done_in = (dir / "done.wav").string();
  test::write_text(done_in, "x");
  ManifestEntry done = entry("done.wav.mem", ManifestEntry::Status::ok);
  const InputIdentity id = input_identity(done_in);
  done.input_bytes = id.bytes;
  done.input_mtime_ns = id.mtime_ns;
  ResumeIndex index;
  index.add(done);
  index.add(entry("gone.wav.mem", ManifestEntry::Status::ok));  // its output was removed since
  index.add(entry("failed.wav.mem", ManifestEntry::Status::error));
  PlanOptions o;
  o.resume = true;
  InputList l = inputs({{"", "done.wav"}, {"i/gone.wav", "gone.wav"}, {"i/unlisted.wav", "unlisted.wav"},
                        {"i/failed.wav", "failed.wav"}, {"i/new.wav", "new.wav"}});
  l.files[0].path = done_in;
  Plan p = plan_jobs(l, o, sink, index);
  ASSERT_EQ(p.jobs.size(), 5u);
  EXPECT_EQ(p.jobs[0].action, Action::skip);
  EXPECT_EQ(p.jobs[1].action, Action::run);  // done once, but the output is missing: redo
  EXPECT_EQ(p.jobs[2].action, Action::run);  // exists, but no ok line: redo
  EXPECT_EQ(p.jobs[3].action, Action::run);  // only an error line
  EXPECT_EQ(p.jobs[4].action, Action::run);
}

TEST(Plan, PlanRunListsFoldersSortedAndCountsOthers) {
  test::TempDir dir;
  test::write_text(dir / "in" / "z.txt", "1");
  test::write_text(dir / "in" / "sub" / "a.txt", "1");
  test::write_text(dir / "in" / "notes.md", "x");
  test::write_text(dir / "lone.md", "x");  // named directly: taken whatever its extension
  test::MemorySink sink;
  Plan p = plan_run({(dir / "in").string(), (dir / "lone.md").string()}, {"txt"}, {}, sink, {});
  ASSERT_EQ(p.jobs.size(), 3u);
  EXPECT_EQ(p.jobs[0].rel, "sub/a.txt");
  EXPECT_EQ(p.jobs[0].input, (dir / "in" / "sub" / "a.txt").string());
  EXPECT_EQ(p.jobs[1].rel, "z.txt");
  EXPECT_EQ(p.jobs[2].rel, "lone.md");
  EXPECT_EQ(p.not_taken, 1u);
  EXPECT_THROW(plan_run({(dir / "nope").string()}, {"txt"}, {}, sink, {}), Error);
}
