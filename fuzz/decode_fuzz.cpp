// The bytes as a file through a one-step pipeline (audio.decode or
// image.decode, chosen at build time by FUZZ_PIPELINE / FUZZ_EXT): decoded,
// or refused with featpipe::Error. Audio resamples to 16 kHz so the
// resampler sees whatever rate a header claims.
#include <featpipe/featpipe.hpp>

#include "fuzz_support.hpp"

#include <memory>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::unique_ptr<featpipe::Session> session =
      featpipe::Pipeline::parse(FUZZ_PIPELINE, "fuzz.yaml", "/")->session();
  const std::string path = featpipe::fuzz::as_file(data, size, FUZZ_EXT);
  try {
    featpipe::Tensor t = session->run_file(path);
    size_t n = 1;
    for (int64_t d : t.shape) n *= static_cast<size_t>(d);
    if (n != t.data.size()) __builtin_trap();
  } catch (const featpipe::Error&) {
  }
  return 0;
}
