// featpipe::npy::read (tensor.load's reader) on arbitrary bytes: it reads
// them or throws std::runtime_error; it must not allocate what a header
// merely claims (libFuzzer's -malloc_limit_mb reports that).
#include <featpipe/npy.hpp>

#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = featpipe::fuzz::as_file(data, size, ".npy");
  try {
    featpipe::npy::Array a = featpipe::npy::read(path);
    size_t n = 1;
    for (int64_t d : a.shape) n *= static_cast<size_t>(d);
    if (n != a.data.size()) __builtin_trap();  // the shape must describe the data
  } catch (const std::runtime_error&) {
  }
  return 0;
}
