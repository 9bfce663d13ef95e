#include "stream_support.hpp"

namespace featpipe::test {

Samples decode(const fs::path& file) {
  auto raw = Pipeline::parse(
      "featpipe: 1\nname: raw\nstages:\n  - use: audio.decode\n    with: {mono: false}\n", "raw.yaml", "/tmp");
  Tensor t = raw->session()->run_file(file.string());
  Samples s;
  s.channels = static_cast<int>(t.shape[0]);
  s.rate = t.attrs.at("sample_rate");
  const size_t n = static_cast<size_t>(t.shape[1]);
  s.interleaved.resize(n * s.channels);
  for (int c = 0; c < s.channels; ++c)
    for (size_t k = 0; k < n; ++k) s.interleaved[k * s.channels + c] = t.data[c * n + k];
  return s;
}

}  // namespace featpipe::test
