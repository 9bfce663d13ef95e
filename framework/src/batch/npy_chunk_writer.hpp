// An .npy output written as its frames come (sink.hpp's ChunkWriter), with
// the same bytes npy::write gives for the whole array.
#pragma once

#include "sink.hpp"

#include <filesystem>

namespace featpipe {

// Frames are held in memory up to `buffer` bytes: a short input is written
// at commit() by write_atomic, its digest computed on the way. Past that
// they go to the temporary file (temporary_path(out, worker)) after room
// for the header, which is written at commit(); the digest is then read
// back, and the file renamed to `out`.
std::unique_ptr<ChunkWriter> npy_chunk_writer(std::filesystem::path out, int worker, size_t buffer);

}  // namespace featpipe
