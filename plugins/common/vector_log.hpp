// log(x + offset) over float arrays, in place, on glibc's vector math
// library (libmvec) where there is one: shared by math.log and the Kaldi
// stages (their log mel energies). A plugin using it links `mvec`.
#pragma once

#include <cmath>
#include <cstdint>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
// glibc's vector math library (libmvec): logf on 4/8/16 lanes, within 4 ulp
// of the correctly rounded result (glibc's documented bound). Scalar logf
// was a tenth of a log-mel run.
extern "C" __m128 _ZGVbN4v_logf(__m128);
// (Declared with their targets, as clang requires of vector arguments.)
extern "C" __attribute__((target("avx2,fma"))) __m256 _ZGVdN8v_logf(__m256);
extern "C" __attribute__((target("avx512f"))) __m512 _ZGVeN16v_logf(__m512);
#define FP_HAVE_MVEC 1
#endif

namespace featpipe::plugins {

using LogFn = void (*)(float*, int64_t, float);

#ifdef FP_HAVE_MVEC
// Whole blocks of W floats, one vector each: y = log(x + offset).
__attribute__((target("avx512f"))) inline void blocks_avx512(float* x, int64_t blocks, float offset) {
  const __m512 off = _mm512_set1_ps(offset);
  for (int64_t b = 0; b < blocks; ++b, x += 16) _mm512_storeu_ps(x, _ZGVeN16v_logf(_mm512_add_ps(_mm512_loadu_ps(x), off)));
}
__attribute__((target("avx2,fma"))) inline void blocks_avx2(float* x, int64_t blocks, float offset) {
  const __m256 off = _mm256_set1_ps(offset);
  for (int64_t b = 0; b < blocks; ++b, x += 8) _mm256_storeu_ps(x, _ZGVdN8v_logf(_mm256_add_ps(_mm256_loadu_ps(x), off)));
}
inline void blocks_sse(float* x, int64_t blocks, float offset) {
  const __m128 off = _mm_set1_ps(offset);
  for (int64_t b = 0; b < blocks; ++b, x += 4) _mm_storeu_ps(x, _ZGVbN4v_logf(_mm_add_ps(_mm_loadu_ps(x), off)));
}

template <int W, void (*Blocks)(float*, int64_t, float)>
void log_padded(float* x, int64_t n, float offset) {
  const int64_t full = n / W;
  Blocks(x, full, offset);
  if (const int64_t rest = n - full * W) {
    alignas(64) float t[W];
    for (int i = 0; i < W; ++i) t[i] = i < rest ? x[full * W + i] : 1.0f;
    Blocks(t, 1, offset);
    for (int64_t i = 0; i < rest; ++i) x[full * W + i] = t[i];
  }
}

inline LogFn pick_log() {
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f")) return &log_padded<16, blocks_avx512>;
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return &log_padded<8, blocks_avx2>;
  return &log_padded<4, blocks_sse>;
}
#else
inline void log_scalar(float* x, int64_t n, float offset) {
  for (int64_t k = 0; k < n; ++k) x[k] = std::log(x[k] + offset);
}
inline LogFn pick_log() { return &log_scalar; }
#endif

// x[k] = log(x[k] + offset) for k < n. The tail goes through the same
// vector code, padded: a value's log never depends on how a stream was
// chunked, or where in a row it sits.
inline void log_inplace(float* x, int64_t n, float offset) {
  static const LogFn fn = pick_log();
  fn(x, n, offset);
}

}  // namespace featpipe::plugins
