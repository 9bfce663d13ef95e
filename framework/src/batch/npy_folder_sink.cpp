#include "npy_folder_sink.hpp"

#include <featpipe/npy.hpp>

#include "atomic_file.hpp"
#include "npy_chunk_writer.hpp"

#include <fstream>
#include <vector>

namespace fs = std::filesystem;

namespace featpipe {

bool NpyFolderSink::exists(const std::string& output) const {
  std::error_code ec;
  return fs::exists(outdir_ / output, ec);
}

int64_t NpyFolderSink::bytes_of(const std::string& output) const {
  std::error_code ec;
  const auto n = fs::file_size(outdir_ / output, ec);
  return ec ? -1 : static_cast<int64_t>(n);
}

std::string NpyFolderSink::damaged(const std::string& output, const Stored& stored, const std::vector<int64_t>& shape) const {
  const int64_t now = bytes_of(output);
  if (now < 0) return "missing";
  if (stored.bytes < 0) return "not recorded";
  if (now != stored.bytes) return "size " + std::to_string(now) + " bytes, recorded " + std::to_string(stored.bytes);
  const std::string want = npy::header(shape);
  std::string got(want.size(), '\0');
  std::ifstream is(outdir_ / output, std::ios::binary);
  if (!is.read(got.data(), static_cast<std::streamsize>(got.size())) || got != want) return "header differs";
  if (stored.xxh3.empty()) return "";  // a line of an earlier featpipe: size and header only
  // The whole file read back: a same-size change inside the data (a script
  // normalizing in place, a bad disk) is caught too.
  if (file_xxh3(outdir_ / output) != stored.xxh3) return "content differs from what was written (XXH3)";
  return "";
}

Stored NpyFolderSink::write(const std::string& output, const Tensor& t, int worker) {
  const Written w = write_atomic(outdir_ / output, [&](std::ostream& os) { npy::write(os, t.shape, t.data.data()); }, worker);
  return {w.bytes, w.xxh3};
}

std::unique_ptr<ChunkWriter> NpyFolderSink::open_chunked(const std::string& output, int worker) {
  return npy_chunk_writer(outdir_ / output, worker, kChunkedBuffer);
}

}  // namespace featpipe
