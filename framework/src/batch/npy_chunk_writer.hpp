// An .npy output written as its frames come (sink.hpp's ChunkWriter), with
// the same bytes the sink's write() gives for the whole array: npy::write's
// (float32) or npy_bytes' (float16).
#pragma once

#include "npy_encode.hpp"
#include "sink.hpp"

#include <filesystem>

namespace featpipe {

// As chunk_file_writer.hpp holds and spills: up to `buffer` bytes in
// memory, then the temporary file, the header written last. float16:
// `source` is the step making the features, for a value beyond its range.
std::unique_ptr<ChunkWriter> npy_chunk_writer(std::filesystem::path out, int worker, size_t buffer,
                                              Dtype dtype = Dtype::float32, std::string source = {});

}  // namespace featpipe
