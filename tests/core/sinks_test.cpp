// Sinks: the .npy folder (atomic, relative paths kept) and the growing .npy
// of `featpipe stream` (a valid array after every append).
#include "test_support.hpp"

#include "batch/npy_folder_sink.hpp"

#include <featpipe/npy_growing.hpp>

#include <gtest/gtest.h>

#include <set>

using namespace featpipe;

namespace {

std::set<std::string> files_under(const fs::path& dir) {
  std::set<std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(dir))
    if (e.is_regular_file()) out.insert(e.path().lexically_relative(dir).generic_string());
  return out;
}

}  // namespace

TEST(NpyFolderSink, WritesOneArrayPerInputUnderItsRelativePath) {
  test::TempDir dir;
  NpyFolderSink sink(dir / "out");
  EXPECT_EQ(sink.output_of("sub/a.wav"), "sub/a.wav.npy");
  EXPECT_EQ(sink.describe("sub/a.wav.npy"), (dir / "out" / "sub" / "a.wav.npy").string());
  EXPECT_FALSE(sink.exists("sub/a.wav.npy"));

  Tensor t{{2, 3}, {"frame", "mel"}, {1, 2, 3, 4, 5, 6}, {}};
  sink.write("sub/a.wav.npy", t, 0);
  sink.write("b.wav.npy", Tensor{{1}, {"x"}, {7}, {}}, 1);
  EXPECT_TRUE(sink.exists("sub/a.wav.npy"));
  npy::Array a = npy::read((dir / "out" / "sub" / "a.wav.npy").string());
  EXPECT_EQ(a.shape, t.shape);
  EXPECT_EQ(a.data, t.data);
  EXPECT_EQ(npy::read((dir / "out" / "b.wav.npy").string()).data, (std::vector<float>{7}));
  // Nothing but the outputs: no temporary file left.
  EXPECT_EQ(files_under(dir / "out"), (std::set<std::string>{"sub/a.wav.npy", "b.wav.npy"}));

  // Replacing keeps the name and the folder clean.
  sink.write("b.wav.npy", Tensor{{2}, {"x"}, {8, 9}, {}}, 0);
  EXPECT_EQ(npy::read((dir / "out" / "b.wav.npy").string()).data, (std::vector<float>{8, 9}));
  EXPECT_EQ(files_under(dir / "out").size(), 2u);
}

TEST(NpyFolderSink, AFailedWriteThrowsAndLeavesNothing) {
  test::TempDir dir;
  test::write_text(dir / "out" / "sub", "a file where a folder should be");
  NpyFolderSink sink(dir / "out");
  try {
    sink.write("sub/a.wav.npy", Tensor{{1}, {"x"}, {1}, {}}, 0);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("cannot create folder"), std::string::npos) << e.what();
  }
  // The output name is a folder: the rename fails, the temporary goes.
  fs::create_directories(dir / "out" / "c.wav.npy");
  try {
    sink.write("c.wav.npy", Tensor{{1}, {"x"}, {1}, {}}, 3);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("cannot write " + (dir / "out" / "c.wav.npy").string()), std::string::npos)
        << e.what();
  }
  EXPECT_EQ(files_under(dir / "out"), (std::set<std::string>{"sub"}));
}

TEST(GrowingNpy, IsAValidArrayAfterEveryAppend) {
  test::TempDir dir;
  const std::string path = (dir / "live.npy").string();
  npy::GrowingFile f(path);
  const std::vector<int64_t> frame{3};
  std::vector<float> all;
  for (int chunk = 1; chunk <= 4; ++chunk) {
    std::vector<float> data;
    for (int k = 0; k < 3 * chunk; ++k) data.push_back(static_cast<float>(all.size() + data.size()));
    f.append(frame, data.data(), chunk);
    all.insert(all.end(), data.begin(), data.end());
    npy::Array a = npy::read(path);
    EXPECT_EQ(a.shape, (std::vector<int64_t>{static_cast<int64_t>(all.size() / 3), 3}));
    EXPECT_EQ(a.data, all);
    // The data starts at the fixed header size, as numpy expects (a multiple of 64).
    EXPECT_EQ(fs::file_size(path), npy::GrowingFile::kHeader + all.size() * sizeof(float));
  }
  EXPECT_EQ(f.frames(), 10);
  const std::vector<int64_t> other{4};
  std::vector<float> four(4);
  EXPECT_THROW(f.append(other, four.data(), 1), std::runtime_error);
  f.finish(frame);
  EXPECT_EQ(npy::read(path).shape, (std::vector<int64_t>{10, 3}));
}

TEST(GrowingNpy, AnEmptyStreamGetsItsFrameShapeOrLeavesNothing) {
  test::TempDir dir;
  {
    npy::GrowingFile f((dir / "empty.npy").string());
    const std::vector<int64_t> frame{80};
    f.finish(frame);
  }
  npy::Array a = npy::read((dir / "empty.npy").string());
  EXPECT_EQ(a.shape, (std::vector<int64_t>{0, 80}));
  EXPECT_TRUE(a.data.empty());
  {
    npy::GrowingFile f((dir / "failed.npy").string());  // the stream failed before any frame
  }
  EXPECT_FALSE(fs::exists(dir / "failed.npy"));
  EXPECT_THROW(npy::GrowingFile((dir / "no" / "such" / "x.npy").string()), std::runtime_error);
}
