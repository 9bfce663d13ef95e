// Sessions: the embedding API's run on files and in-memory tensors; chunks
// reassembled along the stream axis; state reset between inputs.
#include "test_support.hpp"

#include <gtest/gtest.h>

#include <cmath>

using namespace featpipe;

namespace {
LoadOptions fixtures(std::optional<TensorSpec> input = std::nullopt) {
  LoadOptions o;
  o.builtin_plugins = false;
  o.plugin_files = {FIXTURE_STAGES};
  o.input = input;
  return o;
}
}  // namespace

TEST(Session, RunFileTwiceResetsState) {
  test::TempDir dir;
  test::write_text(dir / "a.txt", "1 2 3 4 5");  // 5 samples: 2 frames of 2, one left over
  test::write_text(dir / "b.txt", "6 7 8 9");
  auto p = Pipeline::parse("featpipe: 1\nname: t\nstages:\n  - use: test.read\n  - use: test.frame\n", "p.yaml",
                           dir.path().string(), fixtures());
  auto s = p->session();
  Tensor a = s->run_file((dir / "a.txt").string());
  EXPECT_EQ(a.shape, (std::vector<int64_t>{2, 2}));
  EXPECT_EQ(a.axes, (std::vector<std::string>{"frame", "sample"}));
  EXPECT_EQ(a.data, (std::vector<float>{1, 2, 3, 4}));
  EXPECT_DOUBLE_EQ(a.attrs.at("sample_rate"), 100.0);
  EXPECT_DOUBLE_EQ(s->last_media_seconds(), 0.05);
  Tensor b = s->run_file((dir / "b.txt").string());  // the leftover 5 must not leak in
  EXPECT_EQ(b.data, (std::vector<float>{6, 7, 8, 9}));
}

TEST(Session, RunOnATensor) {
  auto p = Pipeline::parse("featpipe: 1\nname: t\nstages:\n  - use: test.gain\n    with: {factor: -1, axis: col}\n", "p.yaml",
                           "/tmp", fixtures(TensorSpec{{"row", "col"}, {-1, 3}}));
  auto s = p->session();
  Tensor in{{2, 3}, {"row", "col"}, {1, 2, 3, 4, 5, 6}, {}};
  Tensor out = s->run(in);
  EXPECT_EQ(out.shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(out.data, (std::vector<float>{-1, -2, -3, -4, -5, -6}));
  in.data[0] = NAN;
  EXPECT_THROW(s->run(in), Error);
}

// A caller's buffer (as a numpy array would be) goes in without a Tensor
// and comes back untouched, though the stages work in place.
TEST(Session, RunOnAViewLeavesTheCallersBuffer) {
  auto p = Pipeline::parse("featpipe: 1\nname: t\nstages:\n  - use: test.gain\n    with: {factor: -1, axis: col}\n", "p.yaml",
                           "/tmp", fixtures(TensorSpec{{"row", "col"}, {-1, 3}}));
  auto s = p->session();
  const std::vector<float> buffer = {1, 2, 3, 4, 5, 6};
  const int64_t shape[] = {2, 3};
  const std::string axes[] = {"row", "col"};
  for (int k = 0; k < 2; ++k) {  // the session's copy is reused
    Tensor out = s->run(TensorView{buffer.data(), shape, axes});
    EXPECT_EQ(out.shape, (std::vector<int64_t>{2, 3}));
    EXPECT_EQ(out.data, (std::vector<float>{-1, -2, -3, -4, -5, -6}));
  }
  EXPECT_EQ(buffer, (std::vector<float>{1, 2, 3, 4, 5, 6}));
  const Tensor t{{2, 3}, {"row", "col"}, buffer, {}};
  EXPECT_EQ(s->run(t.view()).data, s->run(t).data);
  EXPECT_THROW(s->run(TensorView{buffer.data(), shape, std::span<const std::string>(axes, 1)}), Error);
}

TEST(Session, WholeInputStageEmitsAtFlush) {
  test::TempDir dir;
  test::write_text(dir / "a.txt", "1 2 3 6");
  auto p = Pipeline::parse("featpipe: 1\nname: t\nstages:\n  - use: test.read\n  - use: test.whole\n", "p.yaml",
                           dir.path().string(), fixtures());
  EXPECT_EQ(p->batch_only_step(), std::optional<size_t>(1));
  Tensor t = p->session()->run_file((dir / "a.txt").string());
  EXPECT_EQ(t.data, (std::vector<float>{-2, -1, 0, 3}));
}

// The engine joins a whole-input step's chunks (test.split makes two) and
// pushes them once: test.whole fails on a second push.
TEST(Session, WholeInputStageGetsOnePush) {
  test::TempDir dir;
  test::write_text(dir / "a.txt", "1 2 3 4 5 9");
  auto p = Pipeline::parse("featpipe: 1\nname: t\nstages:\n  - use: test.read\n  - use: test.split\n    with: {at: 2}\n"
                           "  - use: test.whole\n",
                           "p.yaml", dir.path().string(), fixtures());
  auto s = p->session();
  EXPECT_EQ(s->run_file((dir / "a.txt").string()).data, (std::vector<float>{-3, -2, -1, 0, 1, 5}));
  EXPECT_EQ(s->run_file((dir / "a.txt").string()).data, (std::vector<float>{-3, -2, -1, 0, 1, 5}));  // nothing left over

  // Frames [frame, sample]: joined along the stream axis, shape kept.
  auto q = Pipeline::parse("featpipe: 1\nname: t\nstages:\n  - use: test.read\n  - use: test.frame\n    with: {size: 2}\n"
                           "  - use: test.split\n    with: {at: 1}\n  - use: test.whole\n",
                           "p.yaml", dir.path().string(), fixtures());
  Tensor t = q->session()->run_file((dir / "a.txt").string());
  EXPECT_EQ(t.shape, (std::vector<int64_t>{3, 2}));
  EXPECT_EQ(t.data, (std::vector<float>{-3, -2, -1, 0, 1, 5}));
}

TEST(Session, SessionsOfOnePipelineRunOnManyThreads) {
  test::TempDir dir;
  test::write_text(dir / "a.txt", "1 2 3 4 5 6 7 8");
  auto p = Pipeline::parse("featpipe: 1\nname: t\nstages:\n  - use: test.read\n  - use: test.frame\n    with: {size: 4}\n",
                           "p.yaml", dir.path().string(), fixtures());
  std::vector<std::thread> threads;
  std::atomic<int> good{0};
  for (int k = 0; k < 4; ++k)
    threads.emplace_back([&] {
      auto s = p->session();
      for (int i = 0; i < 50; ++i)
        if (s->run_file((dir / "a.txt").string()).data == std::vector<float>{1, 2, 3, 4, 5, 6, 7, 8}) ++good;
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(good.load(), 200);
}
