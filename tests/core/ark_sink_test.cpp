// The Kaldi ark + scp sink: staged matrices merged into one archive sorted
// by key, existing entries kept or replaced, the scp indexing the archive at
// every moment, what a killed run staged merged by the next.
#include "test_support.hpp"

#include "batch/ark_sink.hpp"

#include <featpipe/kaldi_io.hpp>

#include <gtest/gtest.h>

#include <fstream>
#include <map>

using namespace featpipe;

namespace {

Tensor matrix(int64_t rows, int64_t cols, float start) {
  Tensor t{{rows, cols}, {"frame", "mel"}, {}, {}};
  for (int64_t k = 0; k < rows * cols; ++k) t.data.push_back(start + static_cast<float>(k));
  return t;
}

// key -> matrix, through the scp (and checked against a walk of the ark).
std::map<std::string, kaldi::Matrix> read_back(const ArkSink& sink) {
  std::map<std::string, kaldi::Matrix> by_scp;
  for (const auto& e : kaldi::read_scp(sink.scp_path().string())) {
    EXPECT_EQ(e.ark, fs::absolute(sink.ark_path()).lexically_normal().string());
    by_scp[e.key] = kaldi::read_at(e.ark, e.offset);
  }
  std::ifstream is(sink.ark_path(), std::ios::binary);
  kaldi::ArkReader reader(is);
  std::string key;
  kaldi::Matrix m;
  std::vector<std::string> walked;
  while (reader.next(key, m)) {
    walked.push_back(key);
    EXPECT_EQ(m.data, by_scp.at(key).data) << key;
  }
  EXPECT_EQ(walked.size(), by_scp.size());
  EXPECT_TRUE(std::is_sorted(walked.begin(), walked.end()));
  return by_scp;
}

}  // namespace

TEST(ArkSink, NamesFollowTheShardsManifest) {
  test::TempDir dir;
  EXPECT_EQ(ArkSink(dir.path(), 0, 1).ark_path(), dir / "feats.ark");
  EXPECT_EQ(ArkSink(dir.path(), 0, 1).scp_path(), dir / "feats.scp");
  EXPECT_EQ(ArkSink(dir.path(), 1, 3).ark_path(), dir / "feats-1-of-3.ark");
  EXPECT_EQ(ArkSink(dir.path(), 1, 3).scp_path(), dir / "feats-1-of-3.scp");
  EXPECT_EQ(ArkSink(dir.path(), 1, 3).output_of("utt1"), "feats-1-of-3.ark#utt1");
}

TEST(ArkSink, WritesSortedArchiveAndScpThatReadBackExactly) {
  test::TempDir dir;
  ArkSink sink(dir.path(), 0, 1);
  const Tensor b = matrix(3, 2, 0.5f), a = matrix(2, 4, -7.25f);
  const Stored sb = sink.write(sink.output_of("utt-b"), b, 1);
  const Stored sa = sink.write(sink.output_of("utt-a"), a, 0);
  EXPECT_EQ(sb.bytes, 15 + 3 * 2 * 4);
  EXPECT_EQ(sa.xxh3.size(), 16u);
  EXPECT_FALSE(fs::exists(sink.ark_path()));  // nothing presented before the end
  EXPECT_TRUE(sink.exists(sink.output_of("utt-b")));  // but stored: a killed run's resume skips it
  sink.finish();
  auto got = read_back(sink);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got["utt-a"].rows, 2);
  EXPECT_EQ(got["utt-a"].cols, 4);
  EXPECT_EQ(got["utt-a"].data, a.data);
  EXPECT_EQ(got["utt-b"].data, b.data);
  EXPECT_EQ(test::read_text(sink.scp_path()),
            "utt-a " + fs::absolute(sink.ark_path()).string() + ":6\nutt-b " + fs::absolute(sink.ark_path()).string() +
                ":" + std::to_string(6 + 15 + 32 + 6) + "\n");
  EXPECT_FALSE(fs::exists(sink.staging()));
}

TEST(ArkSink, ALaterRunKeepsOtherEntriesAndReplacesItsOwn) {
  test::TempDir dir;
  {
    ArkSink first(dir.path(), 0, 1);
    first.write(first.output_of("a"), matrix(1, 2, 1), 0);
    first.write(first.output_of("c"), matrix(1, 2, 3), 0);
    first.finish();
  }
  ArkSink second(dir.path(), 0, 1);
  EXPECT_TRUE(second.exists(second.output_of("a")));
  EXPECT_FALSE(second.exists(second.output_of("b")));
  const Stored sc = second.write(second.output_of("c"), matrix(2, 2, 30), 0);
  second.write(second.output_of("b"), matrix(1, 3, 20), 0);
  // Before the merge, the staged matrix is what the sink reports.
  EXPECT_EQ(second.damaged(second.output_of("c"), sc, {2, 2}), "");
  second.finish();
  auto got = read_back(second);
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got["a"].data, (std::vector<float>{1, 2}));
  EXPECT_EQ(got["b"].data, (std::vector<float>{20, 21, 22}));
  EXPECT_EQ(got["c"].data, (std::vector<float>{30, 31, 32, 33}));
  // After it, the entry in the archive is checked as the manifest recorded it.
  ArkSink third(dir.path(), 0, 1);
  EXPECT_EQ(third.damaged(third.output_of("c"), sc, {2, 2}), "");
  EXPECT_EQ(third.bytes_of(third.output_of("c")), sc.bytes);
  EXPECT_EQ(third.damaged(third.output_of("c"), sc, {4, 1}), "header differs");
  EXPECT_EQ(third.damaged(third.output_of("c"), Stored{sc.bytes, "0123456789abcdef"}, {2, 2}),
            "content differs from what was written (XXH3)");
  EXPECT_EQ(third.damaged(third.output_of("zz"), sc, {2, 2}), "missing");
}

TEST(ArkSink, AnArchiveLeftWithoutItsScpIsIndexedAgain) {
  test::TempDir dir;
  ArkSink sink(dir.path(), 0, 1);
  sink.write(sink.output_of("a"), matrix(2, 2, 1), 0);
  sink.finish();
  const std::string scp = test::read_text(sink.scp_path());
  fs::remove(sink.scp_path());  // killed between the scp's removal and its renaming
  ArkSink again(dir.path(), 0, 1);
  EXPECT_TRUE(again.exists(again.output_of("a")));
  again.finish();
  EXPECT_EQ(test::read_text(again.scp_path()), scp);
}

TEST(ArkSink, RefusesFeaturesThatAreNotMatricesAndKeysWithSpaces) {
  test::TempDir dir;
  ArkSink sink(dir.path(), 0, 1);
  try {
    sink.write(sink.output_of("a"), Tensor{{2, 2, 2}, {"frame", "c", "d"}, std::vector<float>(8), {}}, 0);
    FAIL() << "rank 3 written";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("a Kaldi archive holds matrices ([frame, dim]); these features are [frame, c, d] (rank 3)"),
              std::string::npos)
        << e.what();
  }
  EXPECT_THROW(sink.write(sink.output_of("a"), Tensor{{4}, {"time"}, std::vector<float>(4), {}}, 0), Error);
  EXPECT_THROW(sink.write(sink.output_of("my file.wav"), matrix(1, 1, 0), 0), Error);
  sink.finish();
  EXPECT_FALSE(fs::exists(sink.ark_path()));  // nothing was stored: no archive
}

TEST(ArkSink, KeysThatAreRelativePathsAreStagedAsOneFileEach) {
  test::TempDir dir;
  ArkSink sink(dir.path(), 0, 1);
  sink.write(sink.output_of("sub/x.wav"), matrix(1, 1, 5), 0);
  sink.write(sink.output_of(".hidden%"), matrix(1, 1, 6), 0);
  sink.finish();
  auto got = read_back(sink);
  EXPECT_EQ(got.at("sub/x.wav").data, (std::vector<float>{5}));
  EXPECT_EQ(got.at(".hidden%").data, (std::vector<float>{6}));
}

TEST(ArkSink, ADamagedArchiveStopsThePlanWithItsName) {
  test::TempDir dir;
  test::write_text(dir / "feats.ark", "utt1 \x01garbage");
  ArkSink sink(dir.path(), 0, 1);
  try {
    (void)sink.exists(sink.output_of("utt1"));
    FAIL() << "a damaged archive was read";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("feats.ark is damaged"), std::string::npos) << e.what();
  }
}
