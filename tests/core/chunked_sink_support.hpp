// Long feature arrays handed to a sink's ChunkWriter the way run_job does:
// frames along axis 0 in chunks of varied sizes.
#pragma once

#include "batch/sink.hpp"

#include <algorithm>
#include <random>

namespace featpipe::test {

// Appends `t` ([frames, ...]) to `w` in chunks of 1..max_chunk frames.
inline void append_in_chunks(ChunkWriter& w, const Tensor& t, int64_t max_chunk, unsigned seed) {
  int64_t per = 1;
  for (size_t k = 1; k < t.shape.size(); ++k) per *= t.shape[k];
  std::mt19937 rng(seed);
  for (int64_t at = 0; at < t.shape[0];) {
    const int64_t n = std::min<int64_t>(t.shape[0] - at, 1 + static_cast<int64_t>(rng() % static_cast<unsigned>(max_chunk)));
    FramesView v;
    v.data = t.data.data() + at * per;
    v.rank = static_cast<int32_t>(t.shape.size());
    std::copy(t.shape.begin(), t.shape.end(), v.shape);
    v.shape[0] = n;
    w.append(v);
    at += n;
  }
}

// Values of every magnitude (subnormal to ~6e4 for float16, both signs),
// reproducible.
inline Tensor long_matrix(int64_t rows, int64_t cols, unsigned seed) {
  Tensor t{{rows, cols}, {"frame", "mel"}, {}, {}};
  t.data.resize(static_cast<size_t>(rows * cols));
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> exponent(-26.0f, 15.9f), sign(-1.0f, 1.0f);
  for (float& x : t.data) x = std::copysign(std::exp2(exponent(rng)), sign(rng));
  return t;
}

}  // namespace featpipe::test
