// Kaldi archives written as frames come (ArkSink::open_chunked): a long
// input's staged matrix, and the archive merged from it, are byte for byte
// those of the whole-tensor write(); the row count is patched in place; a
// writer dropped mid-way (a failing input) leaves no entry.
#include "test_support.hpp"

#include "batch/ark_sink.hpp"
#include "batch/atomic_file.hpp"
#include "batch/npy_folder_sink.hpp"
#include "chunked_sink_support.hpp"

#include <featpipe/kaldi_io.hpp>

#include <gtest/gtest.h>

#include <cstring>
#include <fstream>

using namespace featpipe;

namespace {

// The scp with the archive's folder taken out: two folders' scp compare.
std::string scp_text(const ArkSink& sink) {
  std::string s = test::read_text(sink.scp_path());
  const std::string dir = fs::absolute(sink.ark_path()).lexically_normal().parent_path().string();
  for (size_t at; (at = s.find(dir)) != std::string::npos;) s.replace(at, dir.size(), "DIR");
  return s;
}

std::vector<std::string> names_in(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& e : fs::recursive_directory_iterator(dir)) names.push_back(fs::relative(e.path(), dir).string());
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace

TEST(ArkChunked, ALongInputGivesTheWholeWritesArchive) {
  // 9.6 M values: 38 MB, more than four times the buffer held in memory.
  const Tensor big = test::long_matrix(120000, 80, 11), small = test::long_matrix(5, 80, 12);
  ASSERT_GT(big.data.size() * 4, 4 * NpyFolderSink::kChunkedBuffer);
  test::TempDir whole_dir, chunk_dir;
  ArkSink whole(whole_dir.path(), 1, 2), chunked(chunk_dir.path(), 1, 2);
  const Stored want_big = whole.write(whole.output_of("spk-utt2"), big, 0);
  const Stored want_small = whole.write(whole.output_of("spk-utt1"), small, 1);

  auto w = chunked.open_chunked(chunked.output_of("spk-utt2"), 0);
  ASSERT_NE(w, nullptr);
  test::append_in_chunks(*w, big, 700, 13);
  const Stored got_big = w->commit(big.shape);
  auto ws = chunked.open_chunked(chunked.output_of("spk-utt1"), 1);  // stays in memory
  test::append_in_chunks(*ws, small, 2, 14);
  const Stored got_small = ws->commit(small.shape);
  EXPECT_EQ(got_big.bytes, want_big.bytes);
  EXPECT_EQ(got_big.xxh3, want_big.xxh3);
  EXPECT_EQ(got_small.xxh3, want_small.xxh3);
  // Staged: counted as stored (a killed run's --resume skips it), and whole.
  EXPECT_EQ(chunked.damaged(chunked.output_of("spk-utt2"), got_big, big.shape), "");

  whole.finish();
  chunked.finish();
  const std::string ark = test::read_text(chunked.ark_path());
  EXPECT_TRUE(ark == test::read_text(whole.ark_path())) << "the archives differ";
  EXPECT_EQ(scp_text(chunked), scp_text(whole));
  EXPECT_EQ(names_in(chunk_dir.path()), (std::vector<std::string>{"feats-1-of-2.ark", "feats-1-of-2.scp"}));

  // The entry, through the scp: the rows patched in, the data as given.
  for (const auto& e : kaldi::read_scp(chunked.scp_path().string())) {
    if (e.key != "spk-utt2") continue;
    const kaldi::Matrix m = kaldi::read_at(e.ark, e.offset);
    EXPECT_EQ(m.rows, 120000);
    EXPECT_EQ(m.cols, 80);
    EXPECT_TRUE(m.data.size() == big.data.size() && std::memcmp(m.data.data(), big.data.data(), big.data.size() * 4) == 0);
    EXPECT_EQ(bytes_xxh3(std::string_view(ark).substr(static_cast<size_t>(e.offset), static_cast<size_t>(got_big.bytes))),
              got_big.xxh3);  // the manifest's digest is the entry's
  }
  // --resume reads the merged entry back in blocks against the manifest's record.
  ArkSink again(chunk_dir.path(), 1, 2);
  EXPECT_EQ(again.damaged(again.output_of("spk-utt2"), got_big, big.shape), "");
  EXPECT_EQ(again.damaged(again.output_of("spk-utt2"), got_big, {120001, 80}), "header differs");
  {
    std::fstream f(chunked.ark_path(), std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(ark.size() - 3));
    f.put('\x55');  // inside the last entry's data: spk-utt2 sorts last
  }
  ArkSink edited(chunk_dir.path(), 1, 2);
  EXPECT_EQ(edited.damaged(edited.output_of("spk-utt2"), got_big, big.shape),
            "content differs from what was written (XXH3)");
}

TEST(ArkChunked, NoRowsGiveTheEmptyMatrix) {
  test::TempDir dir;
  ArkSink sink(dir.path(), 0, 1);
  auto w = sink.open_chunked(sink.output_of("e"), 0);
  const Stored s = w->commit({0, 80});
  EXPECT_EQ(s.bytes, 15);
  EXPECT_EQ(test::read_text(sink.staging() / "e"), kaldi::matrix_header(0, 0));  // Kaldi's 0 x 0
}

TEST(ArkChunked, ADroppedWriterLeavesNoEntryAndTheArchiveAsItWas) {
  test::TempDir dir;
  {
    ArkSink first(dir.path(), 0, 1);
    first.write(first.output_of("a"), test::long_matrix(3, 80, 1), 0);
    first.write(first.output_of("c"), test::long_matrix(4, 80, 2), 0);
    first.finish();
  }
  const std::string ark = test::read_text(dir / "feats.ark"), scp = test::read_text(dir / "feats.scp");
  ArkSink sink(dir.path(), 0, 1);
  {
    auto w = sink.open_chunked(sink.output_of("b"), 0);
    // 12 MB of rows, then the input fails (a truncated file's last chunk).
    test::append_in_chunks(*w, test::long_matrix(40000, 80, 3), 800, 4);
    EXPECT_FALSE(sink.exists(sink.output_of("b")));  // only its temporary, which no run counts
  }
  EXPECT_FALSE(sink.exists(sink.output_of("b")));
  sink.write(sink.output_of("d"), test::long_matrix(2, 80, 5), 0);
  sink.finish();
  auto entries = kaldi::read_scp(sink.scp_path().string());
  std::vector<std::string> keys;
  for (const auto& e : entries) keys.push_back(e.key);
  EXPECT_EQ(keys, (std::vector<std::string>{"a", "c", "d"}));
  EXPECT_EQ(test::read_text(dir / "feats.ark").substr(0, ark.size()), ark);  // a and c as they were
  EXPECT_EQ(test::read_text(dir / "feats.scp").substr(0, scp.size()), scp);
  EXPECT_EQ(names_in(dir.path()), (std::vector<std::string>{"feats.ark", "feats.scp"}));  // no staging left
}

TEST(ArkChunked, RefusesKeysWithSpacesAndRanksOtherThanTwoAsWriteDoes) {
  test::TempDir dir;
  ArkSink sink(dir.path(), 0, 1);
  std::string whole, chunked;
  try {
    sink.write(sink.output_of("my file.wav"), test::long_matrix(1, 1, 0), 0);
  } catch (const Error& e) {
    whole = e.what();
  }
  try {
    sink.open_chunked(sink.output_of("my file.wav"), 0);
  } catch (const Error& e) {
    chunked = e.what();
  }
  EXPECT_NE(whole.find("holds whitespace"), std::string::npos) << whole;
  EXPECT_EQ(chunked, whole);
  auto w = sink.open_chunked(sink.output_of("r3"), 0);
  std::vector<float> data(2 * 3 * 4);
  FramesView v;
  v.data = data.data();
  v.rank = 3;
  v.shape[0] = 2, v.shape[1] = 3, v.shape[2] = 4;
  w->append(v);
  try {
    w->commit({2, 3, 4});
    FAIL() << "rank 3 written";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("a Kaldi archive holds matrices ([frame, dim]); these features are of rank 3"),
              std::string::npos)
        << e.what();
  }
  w.reset();
  sink.finish();
  EXPECT_FALSE(fs::exists(sink.ark_path()));
}
