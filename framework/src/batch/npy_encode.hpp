// A tensor's .npy bytes in memory, in the dtype a run stores: float32 (as
// npy::write) or float16 (storage; see README "--dtype").
#pragma once

#include <featpipe/featpipe.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace featpipe {

enum class Dtype { float32, float16 };

// float32 -> IEEE binary16 bits, rounded to nearest even as numpy's
// astype(np.float16); infinities and NaNs stay so. Finite values of 65520
// and beyond in magnitude round to infinity.
uint16_t float16_bits(float x);

// `n` values as float16 into `out` (2n bytes), the first at flat index `at`
// of an array `source` (the step that made it) makes: a finite value that
// would round to infinity throws Error naming it, its index and `source`,
// instead of storing inf.
void encode_float16(const float* values, size_t n, int64_t at, const std::string& source, char* out);

// The .npy header for `shape` in `dtype` (npy::header's, with '<f2').
std::string npy_header(const std::vector<int64_t>& shape, Dtype dtype);

// Header and data (float16 as encode_float16 stores it).
std::string npy_bytes(const Tensor& t, Dtype dtype, const std::string& source);

}  // namespace featpipe
