#include "npy_encode.hpp"

#include <featpipe/npy.hpp>

#include <bit>
#include <cmath>
#include <cstring>
#include <sstream>

namespace featpipe {

uint16_t float16_bits(float x) {
  const uint32_t f = std::bit_cast<uint32_t>(x);
  const uint16_t sign = static_cast<uint16_t>((f >> 16) & 0x8000);
  const uint32_t a = f & 0x7fffffff;
  if (a >= 0x7f800000) {  // inf, NaN (its payload's top bits; a NaN stays a NaN)
    uint32_t h = 0x7c00 + ((a & 0x7fffff) >> 13);
    if (a > 0x7f800000 && h == 0x7c00) ++h;
    return static_cast<uint16_t>(sign | h);
  }
  if (a >= 0x477ff000) return sign | 0x7c00;  // >= 65520: nearest is inf
  if (a < 0x38800000) {                        // below 2^-14: a subnormal half, or zero
    if (a < 0x33000000) return sign;           // below 2^-25: nearer zero
    const uint32_t e = a >> 23, m = (a & 0x7fffff) | 0x800000;
    const uint32_t shift = 126 - e;  // value = m * 2^(e-150); the half's unit is 2^-24
    uint32_t h = m >> shift;
    const uint32_t rest = m & ((1u << shift) - 1), half = 1u << (shift - 1);
    if (rest > half || (rest == half && (h & 1))) ++h;  // may carry into the smallest normal
    return static_cast<uint16_t>(sign | h);
  }
  uint32_t h = (a >> 13) - (112u << 10);  // rebias 127 -> 15, keep 10 mantissa bits
  const uint32_t rest = a & 0x1fff;
  if (rest > 0x1000 || (rest == 0x1000 && (h & 1))) ++h;  // a carry moves the exponent, as it should
  return static_cast<uint16_t>(sign | h);
}

void encode_float16(const float* values, size_t n, int64_t at, const std::string& source, char* out) {
  for (size_t k = 0; k < n; ++k) {
    const uint16_t h = float16_bits(values[k]);
    if ((h & 0x7fff) == 0x7c00 && std::isfinite(values[k])) {
      std::ostringstream why;
      why.precision(9);
      why << "the value " << values[k] << " (at flat index " << at + static_cast<int64_t>(k) << ") of " << source
          << " is beyond float16's range (largest 65504): not stored as inf; use --dtype float32";
      throw Error(why.str());
    }
    std::memcpy(out + 2 * k, &h, 2);
  }
}

std::string npy_header(const std::vector<int64_t>& shape, Dtype dtype) {
  std::string h = npy::header(shape);
  if (dtype == Dtype::float16) h.replace(h.find("'<f4'"), 5, "'<f2'");  // same length: the padding holds
  return h;
}

std::string npy_bytes(const Tensor& t, Dtype dtype, const std::string& source) {
  std::string out = npy_header(t.shape, dtype);
  const size_t n = t.data.size(), at = out.size();
  if (dtype == Dtype::float32) {
    out.resize(at + n * 4);
    std::memcpy(out.data() + at, t.data.data(), n * 4);
    return out;
  }
  out.resize(at + n * 2);
  encode_float16(t.data.data(), n, 0, source, out.data() + at);
  return out;
}

}  // namespace featpipe
