// --dtype float16 written as frames come (NpyFloat16Sink::open_chunked): a
// long input's file is byte for byte the whole-tensor write()'s, its header
// written in place; a value beyond float16's range fails the input naming
// the index write() names, leaving nothing.
#include "test_support.hpp"

#include "batch/atomic_file.hpp"
#include "batch/npy_encode.hpp"
#include "batch/npy_float16_sink.hpp"
#include "chunked_sink_support.hpp"

#include <gtest/gtest.h>

using namespace featpipe;

namespace {

size_t entries(const fs::path& dir) {
  size_t n = 0;
  for ([[maybe_unused]] const auto& e : fs::recursive_directory_iterator(dir)) ++n;
  return n;
}

}  // namespace

TEST(Float16Chunked, ALongInputGivesTheWholeWritesBytes) {
  // 17.1 M values: 34 MB of float16, over four times the buffer held in memory.
  const Tensor t = test::long_matrix(66000, 259, 3);
  ASSERT_GT(t.data.size() * 2, 4 * NpyFolderSink::kChunkedBuffer);
  test::TempDir whole_dir, chunk_dir;
  NpyFloat16Sink whole(whole_dir.path(), "step 2 'x'"), chunked(chunk_dir.path(), "step 2 'x'");
  const Stored want = whole.write("sub/a.wav.npy", t, 0);
  auto w = chunked.open_chunked("sub/a.wav.npy", 1);
  ASSERT_NE(w, nullptr);
  test::append_in_chunks(*w, t, 900, 4);
  const Stored got = w->commit(t.shape);
  const std::string bytes = test::read_text(chunk_dir / "sub/a.wav.npy");
  EXPECT_TRUE(bytes == test::read_text(whole_dir / "sub/a.wav.npy")) << "the chunked file differs";
  EXPECT_EQ(got.bytes, want.bytes);
  EXPECT_EQ(got.xxh3, want.xxh3);
  EXPECT_EQ(got.xxh3, bytes_xxh3(bytes));
  EXPECT_EQ(chunked.damaged("sub/a.wav.npy", got, t.shape), "");  // as --resume checks it
  EXPECT_EQ(entries(chunk_dir.path()), 2u);                       // sub/ and the file: no temporary
  // A short input stays in memory and is written at commit, the same way.
  const Tensor s = test::long_matrix(7, 259, 5);
  auto ws = chunked.open_chunked("s.npy", 0);
  test::append_in_chunks(*ws, s, 3, 6);
  EXPECT_EQ(ws->commit(s.shape).xxh3, whole.write("s.npy", s, 0).xxh3);
}

TEST(Float16Chunked, TheHeaderKeepsItsSizeWhateverTheFrameCount) {
  for (const std::vector<int64_t>& frame : {std::vector<int64_t>{80}, std::vector<int64_t>{1, 3, 224, 224}}) {
    std::vector<int64_t> one{1}, most{999999999999999};
    one.insert(one.end(), frame.begin(), frame.end());
    most.insert(most.end(), frame.begin(), frame.end());
    EXPECT_EQ(npy_header(one, Dtype::float16).size(), npy_header(most, Dtype::float16).size()) << frame.size();
  }
}

TEST(Float16Chunked, AValueBeyondRangeLateFailsAsWriteDoesLeavingNothing) {
  Tensor t = test::long_matrix(40000, 128, 7);  // 10 MB of float16: spilled before the bad value
  const size_t bad = t.data.size() - 1000;
  t.data[bad] = 70000.0f;
  test::TempDir whole_dir, chunk_dir;
  NpyFloat16Sink whole(whole_dir.path(), "step 3 'math.exp'"), chunked(chunk_dir.path(), "step 3 'math.exp'");
  std::string want;
  try {
    whole.write("a.npy", t, 0);
    FAIL() << "70000 stored";
  } catch (const Error& e) {
    want = e.what();
  }
  EXPECT_NE(want.find("(at flat index " + std::to_string(bad) + ") of step 3 'math.exp'"), std::string::npos) << want;
  {
    auto w = chunked.open_chunked("a.npy", 0);
    try {
      test::append_in_chunks(*w, t, 500, 8);
      FAIL() << "70000 stored";
    } catch (const Error& e) {
      EXPECT_EQ(std::string(e.what()), want);
    }
    EXPECT_EQ(entries(chunk_dir.path()), 1u);  // the temporary, until the writer goes
  }
  EXPECT_EQ(entries(chunk_dir.path()), 0u);
  EXPECT_EQ(entries(whole_dir.path()), 0u);
}
