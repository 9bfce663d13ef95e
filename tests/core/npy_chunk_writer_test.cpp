// The .npy written as frames come (long inputs): the same bytes and digest
// as the whole array written at once, whether the frames stay in memory or
// spill to the temporary file; a writer dropped or failing leaves nothing.
#include "test_support.hpp"

#include "batch/atomic_file.hpp"
#include "batch/npy_chunk_writer.hpp"

#include <featpipe/npy.hpp>

#include <gtest/gtest.h>

#include <numeric>
#include <random>
#include <sstream>

using namespace featpipe;

namespace {

std::string whole_bytes(const std::vector<int64_t>& shape, const std::vector<float>& data) {
  std::ostringstream os;
  npy::write(os, shape, data.data());
  return os.str();
}

size_t entries(const fs::path& dir) {
  size_t n = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir)) ++n;
  return n;
}

// Appends `data` ([frames, frame...]) in chunks of random sizes, commits.
Stored write_in_chunks(const fs::path& out, const std::vector<int64_t>& shape, const std::vector<float>& data,
                       size_t buffer, unsigned seed) {
  auto w = npy_chunk_writer(out, 0, buffer);
  int64_t per = 1;
  for (size_t k = 1; k < shape.size(); ++k) per *= shape[k];
  std::mt19937 rng(seed);
  for (int64_t at = 0; at < shape[0];) {
    const int64_t n = std::min<int64_t>(shape[0] - at, 1 + static_cast<int64_t>(rng() % 97));
    FramesView v;
    v.data = data.data() + at * per;
    v.rank = static_cast<int32_t>(shape.size());
    std::copy(shape.begin(), shape.end(), v.shape);
    v.shape[0] = n;
    w->append(v);
    at += n;
  }
  return w->commit(shape);
}

}  // namespace

TEST(NpyChunkWriter, SameBytesAsTheWholeArrayInMemoryOrSpilled) {
  test::TempDir dir;
  const std::vector<int64_t> shape{1000, 13};
  std::vector<float> data(1000 * 13);
  std::iota(data.begin(), data.end(), -77.5f);
  const std::string want = whole_bytes(shape, data);
  for (size_t buffer : {size_t{1} << 30, size_t{4000}, size_t{0}}) {
    const fs::path out = dir / ("b" + std::to_string(buffer) + ".npy");
    const Stored s = write_in_chunks(out, shape, data, buffer, 1);
    EXPECT_EQ(test::read_text(out), want) << "buffer " << buffer;
    EXPECT_EQ(s.bytes, static_cast<int64_t>(want.size()));
    EXPECT_EQ(s.xxh3, bytes_xxh3(want));
  }
  EXPECT_EQ(entries(dir.path()), 3u);  // no temporary left
}

TEST(NpyChunkWriter, TheHeaderKeepsItsSizeWhateverTheFrameCount) {
  // What lets the header be written last, in place: for frames as wide as
  // a rank-8 output can hold, 1 frame and 10^15 give headers of one size.
  for (const std::vector<int64_t>& frame : {std::vector<int64_t>{80}, std::vector<int64_t>{1, 3, 224, 224},
                                            std::vector<int64_t>{1, 1, 1, 1, 1, 1, 1099511627776}}) {
    std::vector<int64_t> one{1}, most{999999999999999};
    one.insert(one.end(), frame.begin(), frame.end());
    most.insert(most.end(), frame.begin(), frame.end());
    EXPECT_EQ(npy::header(one).size(), npy::header(most).size()) << frame.size();
  }
}

TEST(NpyChunkWriter, NoFramesGiveTheEmptyArray) {
  test::TempDir dir;
  auto w = npy_chunk_writer(dir / "e.npy", 0, 0);
  const Stored s = w->commit({0, 80});
  EXPECT_EQ(test::read_text(dir / "e.npy"), whole_bytes({0, 80}, {}));
  EXPECT_EQ(s.bytes, static_cast<int64_t>(whole_bytes({0, 80}, {}).size()));
}

TEST(NpyChunkWriter, DroppedOrFailingLeavesNothing) {
  test::TempDir dir;
  std::vector<float> data(64 * 4, 1.0f);
  FramesView v;
  v.data = data.data();
  v.rank = 2;
  v.shape[0] = 64;
  v.shape[1] = 4;
  {
    auto w = npy_chunk_writer(dir / "x.npy", 3, 0);
    w->append(v);
    EXPECT_EQ(entries(dir.path()), 1u);  // the temporary, while writing
  }  // an input that failed after some frames
  EXPECT_EQ(entries(dir.path()), 0u);
  // Frames of another shape are refused.
  auto w = npy_chunk_writer(dir / "y.npy", 0, 0);
  w->append(v);
  v.shape[1] = 5;
  EXPECT_THROW(w->append(v), Error);
  w.reset();
  EXPECT_EQ(entries(dir.path()), 0u);
  // A folder where the output's parent should be: named in the error.
  test::write_text(dir / "f", "a file");
  auto bad = npy_chunk_writer(dir / "f" / "z.npy", 0, 0);
  v.shape[1] = 4;
  try {
    bad->append(v);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("cannot create folder"), std::string::npos) << e.what();
  }
}
