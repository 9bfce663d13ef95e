// Bands::apply_rows (see dsp.hpp): the sparse mel band matrix applied to
// many frames at once.
//
// Every frame's band k is the same chain of float operations on every path
// here: acc = 0; for j in band: acc = acc + (w[j] * x[start + j]), each
// product and each sum rounded to float (no fused multiply-add: this file
// is compiled with -ffp-contract=off and the SIMD paths use separate
// multiply and add instructions). So the AVX-512 path (16 frames per
// block), the AVX2 path (8 frames per block) and the scalar path give the
// same bits, and a frame's result never depends on which block or push it
// lands in; the last, partial block goes through the same vector code with
// the missing frames as zero lanes.
//
// The SIMD paths transpose a block of frames to bin-major order (bin b of
// the 16 or 8 frames in one register), accumulate each band for all the
// block's frames in one register, then transpose the bands back to
// frame-major rows.
#include "dsp.hpp"

#include <immintrin.h>

// GCC 12 warns about the deliberately undefined source operand inside its
// own AVX-512 intrinsic headers (_mm512_undefined_ps): a known false positive.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#include <cstdlib>
#include <string>

namespace featpipe::audio {
namespace {

// The scalar path: four frames per pass (independent sums), then the rest.
void apply_scalar(const int32_t* start, const int32_t* len, const float* weights, int64_t n_out, const float* x,
                  float* y, int64_t rows, int64_t in_stride, int64_t out_stride) {
  int64_t r = 0;
  for (; r + 4 <= rows; r += 4) {
    const float* x0 = x + r * in_stride;
    float* y0 = y + r * out_stride;
    const float* w = weights;
    for (int64_t k = 0; k < n_out; ++k) {
      const float* a = x0 + start[k];
      float s0 = 0.0f, s1 = 0.0f, s2 = 0.0f, s3 = 0.0f;
      for (int32_t j = 0; j < len[k]; ++j) {
        s0 += w[j] * a[j];
        s1 += w[j] * a[in_stride + j];
        s2 += w[j] * a[2 * in_stride + j];
        s3 += w[j] * a[3 * in_stride + j];
      }
      y0[k] = s0;
      y0[out_stride + k] = s1;
      y0[2 * out_stride + k] = s2;
      y0[3 * out_stride + k] = s3;
      w += len[k];
    }
  }
  for (; r < rows; ++r) {
    const float* w = weights;
    const float* x0 = x + r * in_stride;
    float* y0 = y + r * out_stride;
    for (int64_t k = 0; k < n_out; ++k) {
      const float* a = x0 + start[k];
      float acc = 0.0f;
      for (int32_t j = 0; j < len[k]; ++j) acc += w[j] * a[j];
      y0[k] = acc;
      w += len[k];
    }
  }
}

// Scratch for the transposed blocks, per thread (a Bands may be applied by
// several stage instances).
float* scratch(size_t floats) {
  thread_local std::vector<float> buf;
  if (buf.size() < floats + 16) buf.resize(floats + 16);
  // 64-byte aligned start inside the buffer.
  auto p = reinterpret_cast<uintptr_t>(buf.data());
  return reinterpret_cast<float*>((p + 63) & ~uintptr_t{63});
}

// ------------------------------------------------------------------ AVX-512

// In-register transpose of 16 rows of 16 floats.
__attribute__((target("avx512f"))) inline void transpose16(__m512 r[16]) {
  __m512 t[16];
  for (int i = 0; i < 16; i += 2) {
    t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);
    t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
  }
  for (int i = 0; i < 16; i += 4) {
    r[i] = _mm512_castpd_ps(_mm512_unpacklo_pd(_mm512_castps_pd(t[i]), _mm512_castps_pd(t[i + 2])));
    r[i + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(_mm512_castps_pd(t[i]), _mm512_castps_pd(t[i + 2])));
    r[i + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(_mm512_castps_pd(t[i + 1]), _mm512_castps_pd(t[i + 3])));
    r[i + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(_mm512_castps_pd(t[i + 1]), _mm512_castps_pd(t[i + 3])));
  }
  for (int i = 0; i < 16; i += 8) {
    for (int j = 0; j < 4; ++j) {
      t[i + j] = _mm512_shuffle_f32x4(r[i + j], r[i + j + 4], 0x88);
      t[i + j + 4] = _mm512_shuffle_f32x4(r[i + j], r[i + j + 4], 0xdd);
    }
  }
  for (int j = 0; j < 8; ++j) {
    r[j] = _mm512_shuffle_f32x4(t[j], t[j + 8], 0x88);
    r[j + 8] = _mm512_shuffle_f32x4(t[j], t[j + 8], 0xdd);
  }
}

// dst[c * 16 + i] = src[i * stride + c] for i < rows, c < cols (rows, cols
// <= 16); lanes of missing rows are zero. Writes 16 full columns.
__attribute__((target("avx512f"))) inline void to_columns16(const float* src, int64_t stride, int rows, int cols,
                                                            float* dst) {
  __m512 r[16];
  const __mmask16 m = cols >= 16 ? __mmask16(0xffff) : __mmask16((1u << cols) - 1);
  for (int i = 0; i < 16; ++i) r[i] = i < rows ? _mm512_maskz_loadu_ps(m, src + i * stride) : _mm512_setzero_ps();
  transpose16(r);
  for (int c = 0; c < 16; ++c) _mm512_store_ps(dst + c * 16, r[c]);
}

// dst[i * stride + c] = src[c * 16 + i] for i < rows, c < cols.
__attribute__((target("avx512f"))) inline void from_columns16(const float* src, int rows, int cols, float* dst,
                                                              int64_t stride) {
  __m512 r[16];
  for (int c = 0; c < 16; ++c) r[c] = _mm512_load_ps(src + c * 16);
  transpose16(r);
  const __mmask16 m = cols >= 16 ? __mmask16(0xffff) : __mmask16((1u << cols) - 1);
  for (int i = 0; i < rows; ++i) _mm512_mask_storeu_ps(dst + i * stride, m, r[i]);
}

__attribute__((target("avx512f"))) void apply_avx512(const int32_t* start, const int32_t* len,
                                                     const float* weights, int64_t n_out, int64_t n_in,
                                                     const float* x, float* y, int64_t rows, int64_t in_stride,
                                                     int64_t out_stride) {
  const int64_t in_cols = (n_in + 15) / 16 * 16, out_cols = (n_out + 15) / 16 * 16;
  float* xt = scratch(static_cast<size_t>((in_cols + out_cols) * 16));  // [bin][16], then [band][16]
  float* yt = xt + in_cols * 16;
  for (int64_t r = 0; r < rows; r += 16) {
    const int nr = static_cast<int>(std::min<int64_t>(16, rows - r));
    const float* xr = x + r * in_stride;
    for (int64_t b = 0; b < n_in; b += 16)
      to_columns16(xr + b, in_stride, nr, static_cast<int>(std::min<int64_t>(16, n_in - b)), xt + b * 16);
    const float* w = weights;
    for (int64_t k = 0; k < n_out; ++k) {
      const float* a = xt + static_cast<int64_t>(start[k]) * 16;
      __m512 acc = _mm512_setzero_ps();
      for (int32_t j = 0; j < len[k]; ++j)
        acc = _mm512_add_ps(acc, _mm512_mul_ps(_mm512_set1_ps(w[j]), _mm512_load_ps(a + j * 16)));
      _mm512_store_ps(yt + k * 16, acc);
      w += len[k];
    }
    float* yr = y + r * out_stride;
    for (int64_t k = 0; k < n_out; k += 16)
      from_columns16(yt + k * 16, nr, static_cast<int>(std::min<int64_t>(16, n_out - k)), yr + k, out_stride);
  }
}

// ------------------------------------------------------------------ AVX2

// In-register transpose of 8 rows of 8 floats.
__attribute__((target("avx2"))) inline void transpose8(__m256 r[8]) {
  __m256 t[8];
  for (int i = 0; i < 8; i += 2) {
    t[i] = _mm256_unpacklo_ps(r[i], r[i + 1]);
    t[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);
  }
  for (int i = 0; i < 8; i += 4) {
    r[i] = _mm256_shuffle_ps(t[i], t[i + 2], _MM_SHUFFLE(1, 0, 1, 0));
    r[i + 1] = _mm256_shuffle_ps(t[i], t[i + 2], _MM_SHUFFLE(3, 2, 3, 2));
    r[i + 2] = _mm256_shuffle_ps(t[i + 1], t[i + 3], _MM_SHUFFLE(1, 0, 1, 0));
    r[i + 3] = _mm256_shuffle_ps(t[i + 1], t[i + 3], _MM_SHUFFLE(3, 2, 3, 2));
  }
  for (int j = 0; j < 4; ++j) {
    t[j] = _mm256_permute2f128_ps(r[j], r[j + 4], 0x20);
    t[j + 4] = _mm256_permute2f128_ps(r[j], r[j + 4], 0x31);
  }
  for (int j = 0; j < 8; ++j) r[j] = t[j];
}

__attribute__((target("avx2"))) inline __m256i lane_mask8(int n) {
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

__attribute__((target("avx2"))) inline void to_columns8(const float* src, int64_t stride, int rows, int cols,
                                                        float* dst) {
  __m256 r[8];
  const __m256i m = lane_mask8(cols);
  for (int i = 0; i < 8; ++i)
    r[i] = i < rows ? (cols >= 8 ? _mm256_loadu_ps(src + i * stride) : _mm256_maskload_ps(src + i * stride, m))
                    : _mm256_setzero_ps();
  transpose8(r);
  for (int c = 0; c < 8; ++c) _mm256_store_ps(dst + c * 8, r[c]);
}

__attribute__((target("avx2"))) inline void from_columns8(const float* src, int rows, int cols, float* dst,
                                                          int64_t stride) {
  __m256 r[8];
  for (int c = 0; c < 8; ++c) r[c] = _mm256_load_ps(src + c * 8);
  transpose8(r);
  const __m256i m = lane_mask8(cols);
  for (int i = 0; i < rows; ++i) {
    if (cols >= 8) _mm256_storeu_ps(dst + i * stride, r[i]);
    else _mm256_maskstore_ps(dst + i * stride, m, r[i]);
  }
}

__attribute__((target("avx2"))) void apply_avx2(const int32_t* start, const int32_t* len, const float* weights,
                                                int64_t n_out, int64_t n_in, const float* x, float* y, int64_t rows,
                                                int64_t in_stride, int64_t out_stride) {
  const int64_t in_cols = (n_in + 7) / 8 * 8, out_cols = (n_out + 7) / 8 * 8;
  float* xt = scratch(static_cast<size_t>((in_cols + out_cols) * 8));
  float* yt = xt + in_cols * 8;
  for (int64_t r = 0; r < rows; r += 8) {
    const int nr = static_cast<int>(std::min<int64_t>(8, rows - r));
    const float* xr = x + r * in_stride;
    for (int64_t b = 0; b < n_in; b += 8)
      to_columns8(xr + b, in_stride, nr, static_cast<int>(std::min<int64_t>(8, n_in - b)), xt + b * 8);
    const float* w = weights;
    for (int64_t k = 0; k < n_out; ++k) {
      const float* a = xt + static_cast<int64_t>(start[k]) * 8;
      __m256 acc = _mm256_setzero_ps();
      for (int32_t j = 0; j < len[k]; ++j)
        acc = _mm256_add_ps(acc, _mm256_mul_ps(_mm256_set1_ps(w[j]), _mm256_load_ps(a + j * 8)));
      _mm256_store_ps(yt + k * 8, acc);
      w += len[k];
    }
    float* yr = y + r * out_stride;
    for (int64_t k = 0; k < n_out; k += 8)
      from_columns8(yt + k * 8, nr, static_cast<int>(std::min<int64_t>(8, n_out - k)), yr + k, out_stride);
  }
}

enum class Path { scalar, avx2, avx512 };

Path pick_path() {
  __builtin_cpu_init();
  if (const char* env = std::getenv("FEATPIPE_AUDIO_SIMD")) {  // tests: force a path
    const std::string s = env;
    if (s == "scalar") return Path::scalar;
    if (s == "avx2" && __builtin_cpu_supports("avx2")) return Path::avx2;
  }
  if (__builtin_cpu_supports("avx512f")) return Path::avx512;
  if (__builtin_cpu_supports("avx2")) return Path::avx2;
  return Path::scalar;
}

}  // namespace

void Bands::apply_rows(const float* x, float* y, int64_t rows, int64_t in_stride, int64_t out_stride) const {
  static const Path path = pick_path();
  const int64_t n_out = outputs();
  if (rows <= 0 || n_out == 0) return;
  switch (path) {
    case Path::avx512:
      apply_avx512(start_.data(), len_.data(), w_.data(), n_out, n_in_, x, y, rows, in_stride, out_stride);
      return;
    case Path::avx2:
      apply_avx2(start_.data(), len_.data(), w_.data(), n_out, n_in_, x, y, rows, in_stride, out_stride);
      return;
    case Path::scalar:
      apply_scalar(start_.data(), len_.data(), w_.data(), n_out, x, y, rows, in_stride, out_stride);
      return;
  }
}

void Bands::apply(const float* x, float* y) const {
  apply_scalar(start_.data(), len_.data(), w_.data(), outputs(), x, y, 1, 0, 0);
}

}  // namespace featpipe::audio
