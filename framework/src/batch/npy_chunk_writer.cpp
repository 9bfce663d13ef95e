#include "npy_chunk_writer.hpp"

#include "chunk_file_writer.hpp"

namespace featpipe {

std::unique_ptr<ChunkWriter> npy_chunk_writer(std::filesystem::path out, int worker, size_t buffer, Dtype dtype,
                                              std::string source) {
  ChunkLayout l;
  l.header = [dtype](const std::vector<int64_t>& shape) { return npy_header(shape, dtype); };
  l.max_frames = int64_t{999999999999999};  // 15 digits: 10^15 frames
  if (dtype == Dtype::float16) {
    l.value_bytes = 2;
    l.encode = [source = std::move(source)](const float* v, size_t n, int64_t at, char* out) {
      encode_float16(v, n, at, source, out);
    };
  }
  return chunk_file_writer(std::move(out), worker, buffer, std::move(l));
}

}  // namespace featpipe
