// Running one job of a batch run on the caller's thread: a session, an
// input, a sink; each action and each way an input can fail. Then jobs in
// worker processes, with real sessions.
#include "batch_support.hpp"
#include "test_support.hpp"

#include "batch/executor.hpp"
#include "batch/job.hpp"
#include "batch/npy_folder_sink.hpp"

#include <gtest/gtest.h>

using namespace featpipe;
using Status = ManifestEntry::Status;

namespace {

class OneJob : public ::testing::Test {
 protected:
  void SetUp() override {
    LoadOptions lo;
    lo.builtin_plugins = false;
    lo.plugin_files = {FIXTURE_STAGES};
    pipe = Pipeline::parse("featpipe: 1\nname: double\nstages:\n  - use: test.read\n  - use: test.gain\n    with: {factor: 2}\n",
                           "p.yaml", dir.path().string(), lo);
    session = pipe->session();
  }
  Job job(const std::string& name, const std::string& text) {
    test::write_text(dir / name, text);
    return Job{(dir / name).string(), name, name + ".mem", Job::Action::run, ""};
  }
  test::TempDir dir;
  std::shared_ptr<const Pipeline> pipe;
  std::unique_ptr<Session> session;
  test::MemorySink sink;
};

}  // namespace

TEST_F(OneJob, RunWritesTheFeaturesAndDescribesThem) {
  const Job j = job("a.txt", "1 2 3");
  ManifestEntry e = run_job(j, *session, sink, 5);
  EXPECT_EQ(e.status, Status::ok);
  EXPECT_EQ(e.input, j.input);
  EXPECT_EQ(e.output, "a.txt.mem");
  EXPECT_EQ(e.shape, (std::vector<int64_t>{3}));
  EXPECT_EQ(e.axes, (std::vector<std::string>{"time"}));
  EXPECT_TRUE(e.error.empty());
  EXPECT_GE(e.seconds, 0.0);
  EXPECT_DOUBLE_EQ(e.media_seconds, 0.03);  // 3 samples at 100 Hz
  ASSERT_EQ(sink.written.count("a.txt.mem"), 1u);
  EXPECT_EQ(sink.written["a.txt.mem"].data, (std::vector<float>{2, 4, 6}));
  EXPECT_EQ(sink.writers["a.txt.mem"], 5);
}

TEST_F(OneJob, ABadInputIsAnErrorEntryAndTheSessionGoesOn) {
  ManifestEntry e = run_job(job("c.txt", "7 corrupt 8"), *session, sink, 0);
  EXPECT_EQ(e.status, Status::error);
  EXPECT_NE(e.error.find("step 1 'test.read': corrupt data"), std::string::npos) << e.error;
  EXPECT_TRUE(e.shape.empty());
  EXPECT_TRUE(sink.written.empty());
  e = run_job(job("missing.txt", "1"), *session, sink, 0);
  EXPECT_EQ(e.status, Status::ok) << e.error;
  fs::remove(dir / "missing.txt");
  e = run_job(Job{(dir / "missing.txt").string(), "missing.txt", "m", Job::Action::run, ""}, *session, sink, 0);
  EXPECT_EQ(e.status, Status::error);
  EXPECT_FALSE(e.error.empty());
  e = run_job(job("b.txt", "4 5"), *session, sink, 0);
  EXPECT_EQ(e.status, Status::ok) << e.error;
  EXPECT_EQ(sink.written["b.txt.mem"].data, (std::vector<float>{8, 10}));
}

TEST_F(OneJob, AFailedWriteIsAnErrorEntryWithTheMediaCounted) {
  sink.refuse = "a.txt.mem";
  ManifestEntry e = run_job(job("a.txt", "1 2"), *session, sink, 0);
  EXPECT_EQ(e.status, Status::error);
  EXPECT_EQ(e.error, "refused a.txt.mem");
  EXPECT_TRUE(e.shape.empty());
  EXPECT_DOUBLE_EQ(e.media_seconds, 0.02);
}

TEST_F(OneJob, SkipAndFailReadNothing) {
  // The file does not exist: reading it would fail.
  Job skip{(dir / "nope.txt").string(), "nope.txt", "nope.txt.mem", Job::Action::skip, ""};
  ManifestEntry e = run_job(skip, *session, sink, 0);
  EXPECT_EQ(e.status, Status::skipped);
  EXPECT_TRUE(e.error.empty());
  EXPECT_EQ(e.output, "nope.txt.mem");

  Job fail = skip;
  fail.action = Job::Action::fail;
  fail.error = "its output nope.txt.mem is also that of x (same relative path)";
  e = run_job(fail, *session, sink, 0);
  EXPECT_EQ(e.status, Status::error);
  EXPECT_EQ(e.error, fail.error);
  EXPECT_EQ(e.media_seconds, 0.0);
  EXPECT_TRUE(sink.written.empty());
}

TEST_F(OneJob, InWorkerProcessesIntoTheNpyFolder) {
  // The pipeline is loaded in the parent; each child makes its own session.
  NpyFolderSink out(dir / "out");
  std::vector<Job> js = {job("a.txt", "1 2 3"), job("bad.txt", "corrupt"), job("b.txt", "4 5")};
  for (Job& j : js) j.output = out.output_of(j.rel);
  std::vector<ManifestEntry> got(js.size());
  process_executor(2)->run(
      js,
      [&](int w) -> Executor::Worker {
        std::shared_ptr<Session> s = pipe->session();
        return [s, &out, w](const Job& j) { return run_job(j, *s, out, w); };
      },
      [&](size_t k, ManifestEntry e) { got[k] = std::move(e); });
  EXPECT_EQ(got[0].status, Status::ok) << got[0].error;
  EXPECT_EQ(got[0].shape, (std::vector<int64_t>{3}));
  EXPECT_DOUBLE_EQ(got[0].media_seconds, 0.03);
  EXPECT_EQ(got[1].status, Status::error);
  EXPECT_NE(got[1].error.find("corrupt data"), std::string::npos) << got[1].error;
  EXPECT_EQ(got[2].status, Status::ok) << got[2].error;
  EXPECT_EQ(npy::read((dir / "out" / "a.txt.npy").string()).data, (std::vector<float>{2, 4, 6}));
  EXPECT_EQ(npy::read((dir / "out" / "b.txt.npy").string()).data, (std::vector<float>{8, 10}));
  EXPECT_FALSE(fs::exists(dir / "out" / "bad.txt.npy"));
}
