#include "npy_float16_sink.hpp"

#include "atomic_file.hpp"
#include "npy_chunk_writer.hpp"
#include "npy_encode.hpp"

#include <fstream>

namespace featpipe {

std::string NpyFloat16Sink::damaged(const std::string& output, const Stored& stored, const std::vector<int64_t>& shape) const {
  const int64_t now = bytes_of(output);
  if (now < 0) return "missing";
  if (stored.bytes < 0) return "not recorded";
  if (now != stored.bytes) return "size " + std::to_string(now) + " bytes, recorded " + std::to_string(stored.bytes);
  const std::string want = npy_header(shape, Dtype::float16);
  std::string got(want.size(), '\0');
  std::ifstream is(outdir_ / output, std::ios::binary);
  if (!is.read(got.data(), static_cast<std::streamsize>(got.size())) || got != want) return "header differs";
  if (stored.xxh3.empty()) return "";
  if (file_xxh3(outdir_ / output) != stored.xxh3) return "content differs from what was written (XXH3)";
  return "";
}

Stored NpyFloat16Sink::write(const std::string& output, const Tensor& t, int worker) {
  const std::string bytes = npy_bytes(t, Dtype::float16, source_);  // refuses before anything is written
  const Written w = write_atomic(outdir_ / output, [&](std::ostream& os) {
    os.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  }, worker);
  return {w.bytes, w.xxh3};
}

std::unique_ptr<ChunkWriter> NpyFloat16Sink::open_chunked(const std::string& output, int worker) {
  return npy_chunk_writer(outdir_ / output, worker, NpyFolderSink::kChunkedBuffer, Dtype::float16, source_);
}

}  // namespace featpipe
