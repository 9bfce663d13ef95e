// A file of a header then values, written as its frames come (sink.hpp's
// ChunkWriter): an .npy in float32 or float16, a Kaldi matrix. Its bytes
// are those of the header for the whole array followed by every value.
#pragma once

#include "sink.hpp"

#include <filesystem>
#include <functional>

namespace featpipe {

struct ChunkLayout {
  // The header of the whole array of `shape`. Throws for a shape the format
  // cannot hold (the message goes after "cannot write OUT: ").
  std::function<std::string(const std::vector<int64_t>& shape)> header;
  // The most frames header() takes with the size it has for one frame.
  int64_t max_frames = 0;
  size_t value_bytes = sizeof(float);
  // Stores `n` values, the first at flat index `at`, into `out` (n *
  // value_bytes); throws Error for a value the format cannot hold. Empty:
  // the float32 values as they are.
  std::function<void(const float* values, size_t n, int64_t at, char* out)> encode;
};

// Frames are held in memory up to `buffer` bytes: a short input is written
// at commit() by write_atomic, its digest computed on the way. Past that
// they go to the temporary file (temporary_path(out, worker)) after room
// for the header, which is written at commit(); the digest is then read
// back, and the file renamed to `out`.
std::unique_ptr<ChunkWriter> chunk_file_writer(std::filesystem::path out, int worker, size_t buffer, ChunkLayout layout);

}  // namespace featpipe
