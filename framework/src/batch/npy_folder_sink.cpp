#include "npy_folder_sink.hpp"

#include <featpipe/npy.hpp>

#include "atomic_file.hpp"

#include <zlib.h>

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
  if (stored.crc32 < 0) return "";  // a line of an earlier featpipe: size and header only
  // The whole file read back: a same-size change inside the data (a script
  // normalizing in place, a bad disk) is caught too.
  uLong crc = ::crc32(0L, Z_NULL, 0);
  crc = ::crc32(crc, reinterpret_cast<const Bytef*>(got.data()), static_cast<uInt>(got.size()));
  std::vector<char> buf(1 << 16);
  while (is.read(buf.data(), static_cast<std::streamsize>(buf.size())) || is.gcount() > 0)
    crc = ::crc32(crc, reinterpret_cast<const Bytef*>(buf.data()), static_cast<uInt>(is.gcount()));
  if (static_cast<int64_t>(crc) != stored.crc32) return "content differs from what was written (CRC-32)";
  return "";
}

Stored NpyFolderSink::write(const std::string& output, const Tensor& t, int worker) {
  const Written w = write_atomic(outdir_ / output, [&](std::ostream& os) { npy::write(os, t.shape, t.data.data()); }, worker);
  return {w.bytes, static_cast<int64_t>(w.crc32)};
}

}  // namespace featpipe
