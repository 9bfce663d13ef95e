// Pipeline::parse on arbitrary YAML text, with the built-in plugins: every
// input loads or throws featpipe::Error (a message for the user); any other
// exception, crash or sanitizer report is a finding.
#include <featpipe/featpipe.hpp>

#include <cstddef>
#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    // A base dir with no files: relative paths in the text resolve to nothing.
    featpipe::Pipeline::parse(text, "fuzz.yaml", "/nonexistent-featpipe-fuzz");
  } catch (const featpipe::Error&) {
  }
  return 0;
}
