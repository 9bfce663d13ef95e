// Shared by the fuzz targets: the fuzzer's bytes as a file, since the
// stages under test read files (libsndfile, the image decoders, npy::read).
#pragma once

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <fstream>
#include <string>

namespace featpipe::fuzz {

// Writes `data` to a per-process file ending in `ext` and returns its path.
inline std::string as_file(const uint8_t* data, size_t size, const std::string& ext) {
  static const std::string dir = [] {
    const char* shm = "/dev/shm";
    return std::string(access(shm, W_OK) == 0 ? shm : "/tmp");
  }();
  const std::string path = dir + "/featpipe-fuzz-" + std::to_string(getpid()) + ext;
  std::ofstream(path, std::ios::binary | std::ios::trunc).write(reinterpret_cast<const char*>(data),
                                                                 static_cast<std::streamsize>(size));
  return path;
}

}  // namespace featpipe::fuzz
