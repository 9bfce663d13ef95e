// Shared by the stream tests: a recording's own samples, as a capture
// application would push them.
#pragma once

#include "test_support.hpp"

#include <vector>

namespace featpipe::test {

struct Samples {
  std::vector<float> interleaved;
  int channels = 1;
  double rate = 0;
  size_t frames() const { return interleaved.size() / static_cast<size_t>(channels); }
};

// The file's own samples and rate, channels kept, interleaved.
Samples decode(const fs::path& file);

}  // namespace featpipe::test
