#include "resample.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace featpipe::image {
namespace {

// PIL's filters (Resample.c), with their supports.
double triangle(double x) {
  x = std::fabs(x);
  return x < 1.0 ? 1.0 - x : 0.0;
}
double cubic(double x) {  // Keys, a = -0.5 (PIL; torch's antialiased bicubic too)
  constexpr double a = -0.5;
  x = std::fabs(x);
  if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
  if (x < 2.0) return (((x - 5) * x + 8) * x - 4) * a;
  return 0.0;
}
double box(double x) { return x > -0.5 && x <= 0.5 ? 1.0 : 0.0; }

}  // namespace

AxisWeights axis_weights(int in, int out, Interp interp, bool antialias) {
  AxisWeights a;
  a.in = in;
  a.out = out;
  a.first.resize(out);
  a.count.resize(out);
  const double scale = static_cast<double>(in) / out;
  if (interp == Interp::nearest) {
    // PIL's NEAREST (ImagingScaleAffine): source pixel int(x), x starting at
    // scale / 2 and stepping by scale, accumulated as PIL does (the rounding
    // of the running sum decides ties).
    a.ksize = 1;
    a.w.assign(out, 1.0f);
    double x = scale * 0.5;
    for (int i = 0; i < out; ++i, x += scale) {
      a.first[i] = std::min(static_cast<int>(x), in - 1);
      a.count[i] = 1;
    }
    return a;
  }
  double (*filter)(double) = interp == Interp::bicubic ? cubic : interp == Interp::area ? box : triangle;
  const double base_support = interp == Interp::bicubic ? 2.0 : interp == Interp::area ? 0.5 : 1.0;
  const double filterscale = antialias ? std::max(scale, 1.0) : 1.0;
  const double support = base_support * filterscale;
  a.ksize = static_cast<int>(std::ceil(support)) * 2 + 1;
  a.w.assign(static_cast<size_t>(out) * a.ksize, 0.0f);
  std::vector<double> k(a.ksize);
  for (int i = 0; i < out; ++i) {
    const double center = (i + 0.5) * scale;
    const double ss = 1.0 / filterscale;
    int xmin = std::max(static_cast<int>(center - support + 0.5), 0);
    int xmax = std::min(static_cast<int>(center + support + 0.5), in) - xmin;
    double sum = 0.0;
    for (int x = 0; x < xmax; ++x) sum += k[x] = filter((x + xmin - center + 0.5) * ss);
    for (int x = 0; x < xmax; ++x) a.w[static_cast<size_t>(i) * a.ksize + x] = static_cast<float>(sum != 0.0 ? k[x] / sum : k[x]);
    a.first[i] = xmin;
    a.count[i] = std::max(xmax, 0);
  }
  return a;
}

namespace {

// One output row of the vertical pass: o = sum_j w[j] * rows[j], over
// blocks of 16 columns accumulated in registers (one load per tap and
// column, one store per column). Built for AVX2 and for the baseline, picked
// at load time; no FMA contraction, so both give identical results.
__attribute__((target_clones("avx2", "default")))
void vertical_row(const float* r0, size_t stride, const float* w, int n, int width, float* o) {
  int x = 0;
  for (; x + 16 <= width; x += 16) {
    float acc[16];
    for (int k = 0; k < 16; ++k) acc[k] = w[0] * r0[x + k];
    for (int j = 1; j < n; ++j) {
      const float wj = w[j];
      const float* r = r0 + j * stride + x;
      for (int k = 0; k < 16; ++k) acc[k] += wj * r[k];
    }
    for (int k = 0; k < 16; ++k) o[x + k] = acc[k];
  }
  for (; x < width; ++x) {
    float acc = w[0] * r0[x];
    for (int j = 1; j < n; ++j) acc += w[j] * r0[j * stride + x];
    o[x] = acc;
  }
}

// The horizontal pass over `rows` rows: a short dot product per output.
__attribute__((target_clones("avx2", "default")))
void horizontal_rows(const float* src, int64_t rows, int in_w, const AxisWeights& wx, float* dst) {
  const int out_w = wx.out;
  for (int64_t r = 0; r < rows; ++r) {
    const float* s = src + static_cast<size_t>(r) * in_w;
    float* o = dst + static_cast<size_t>(r) * out_w;
    for (int x = 0; x < out_w; ++x) {
      const float* w = wx.w.data() + static_cast<size_t>(x) * wx.ksize;
      const float* v = s + wx.first[x];
      const int n = wx.count[x];
      float acc = 0.0f;
      for (int j = 0; j < n; ++j) acc += w[j] * v[j];
      o[x] = acc;
    }
  }
}

}  // namespace

void resample(const float* src, int64_t planes, int in_h, int in_w, const AxisWeights& wy,
              const AxisWeights& wx, float* dst, float* tmp) {
  const int out_h = wy.out, out_w = wx.out;
  const size_t in_plane = static_cast<size_t>(in_h) * in_w;
  // Vertical pass first: whole rows times a weight, contiguous and
  // vectorizable; it also shrinks the data before the horizontal pass.
  const float* mid = src;
  if (out_h != in_h) {
    for (int64_t p = 0; p < planes; ++p) {
      const float* s = src + p * in_plane;
      for (int y = 0; y < out_h; ++y) {
        float* o = tmp + (static_cast<size_t>(p) * out_h + y) * in_w;
        const int n = wy.count[y];
        if (n == 0) { std::fill(o, o + in_w, 0.0f); continue; }
        vertical_row(s + static_cast<size_t>(wy.first[y]) * in_w, static_cast<size_t>(in_w),
                     wy.w.data() + static_cast<size_t>(y) * wy.ksize, n, in_w, o);
      }
    }
    mid = tmp;
  }
  const int64_t rows = planes * out_h;
  if (out_w == in_w) {  // same size: every filter is the identity
    std::memcpy(dst, mid, static_cast<size_t>(rows) * in_w * sizeof(float));
    return;
  }
  horizontal_rows(mid, rows, in_w, wx, dst);
}

void resample_clamped(const float* src, int64_t planes, int in_h, int in_w, const AxisWeights& wy,
                      const AxisWeights& wx, float hi, float* dst, float* tmp) {
  const int out_h = wy.out, out_w = wx.out;
  auto clamp = [hi](float* p, size_t n) {
    for (size_t k = 0; k < n; ++k) p[k] = std::min(std::max(p[k], 0.0f), hi);
  };
  const int64_t rows = planes * in_h;
  horizontal_rows(src, rows, in_w, wx, tmp);
  clamp(tmp, static_cast<size_t>(rows) * out_w);
  const size_t mid_plane = static_cast<size_t>(in_h) * out_w;
  for (int64_t p = 0; p < planes; ++p) {
    const float* s = tmp + p * mid_plane;
    for (int y = 0; y < out_h; ++y) {
      float* o = dst + (static_cast<size_t>(p) * out_h + y) * out_w;
      const int n = wy.count[y];
      if (n == 0) { std::fill(o, o + out_w, 0.0f); continue; }
      vertical_row(s + static_cast<size_t>(wy.first[y]) * out_w, static_cast<size_t>(out_w),
                   wy.w.data() + static_cast<size_t>(y) * wy.ksize, n, out_w, o);
    }
  }
  clamp(dst, static_cast<size_t>(planes) * out_h * out_w);
}

}  // namespace featpipe::image
