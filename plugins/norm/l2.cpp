// norm.l2 — y = x / max(‖x‖₂, eps) along an axis, ≡ torch.nn.functional.normalize.
//
// The sum of squares is accumulated in double: the square of any finite
// float32 is a normal double (between ~2e-90 and ~1.2e77), so the norm
// neither overflows (rows near 1e38) nor underflows (rows near 1e-38, or of
// subnormals), where torch's float32 norm does. The divisor is then clamped
// by eps exactly as torch does, and a zero vector stays zero.
//
// Speed: along the last axis each row is read once from memory, its norm
// taken, and the row (now in L1) scaled in place and written back; the
// loops are vectorized (OpenMP SIMD) and compiled for AVX-512, AVX2 and
// baseline x86-64, picked at load time. bench/l2 measures it.
#include "slices.hpp"
#include "stages.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

namespace featpipe::norm {
namespace {

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && defined(__linux__)
#define FP_L2_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define FP_L2_CLONES
#endif

// A scale within these bounds is a normal float and x·scale loses nothing
// against x/d; outside them (eps near 0, norms beyond ~1e37) the scaling is
// done in double.
constexpr double kFloatScaleMin = 1e-37, kFloatScaleMax = 1e37;

inline bool float_scale_ok(double s) { return s > kFloatScaleMin && s < kFloatScaleMax; }

// Slices along the last axis: `rows` contiguous vectors of `n` floats.
FP_L2_CLONES void l2_rows(float* x, int64_t rows, int64_t n, double eps) {
  for (int64_t r = 0; r < rows; ++r, x += n) {
    double s = 0;
#pragma omp simd reduction(+ : s)
    for (int64_t k = 0; k < n; ++k) s += double(x[k]) * double(x[k]);
    if (s == 0) continue;  // a zero vector stays zero
    const double inv = 1.0 / std::max(std::sqrt(s), eps);
    if (float_scale_ok(inv)) {
      const float f = static_cast<float>(inv);
#pragma omp simd
      for (int64_t k = 0; k < n; ++k) x[k] *= f;
    } else {
      for (int64_t k = 0; k < n; ++k) x[k] = static_cast<float>(double(x[k]) * inv);
    }
  }
}

// Slices along a middle axis: per block, `inner` vectors of `len` elements
// at stride `inner`, accumulated side by side (vectorized across them).
FP_L2_CLONES void l2_strided(float* x, const Layout& l, double eps, double* acc, float* fscale) {
  const int64_t inner = l.inner;
  for (int64_t o = 0; o < l.outer; ++o) {
    float* block = x + o * l.len * inner;
    std::fill(acc, acc + inner, 0.0);
    for (int64_t r = 0; r < l.len; ++r) {
      const float* row = block + r * inner;
#pragma omp simd
      for (int64_t j = 0; j < inner; ++j) acc[j] += double(row[j]) * double(row[j]);
    }
    bool all_float = true;
    for (int64_t j = 0; j < inner; ++j) {
      acc[j] = acc[j] == 0 ? 1.0 : 1.0 / std::max(std::sqrt(acc[j]), eps);  // zero stays zero
      all_float = all_float && float_scale_ok(acc[j]);
      fscale[j] = static_cast<float>(acc[j]);
    }
    for (int64_t r = 0; r < l.len; ++r) {
      float* row = block + r * inner;
      if (all_float) {
#pragma omp simd
        for (int64_t j = 0; j < inner; ++j) row[j] *= fscale[j];
      } else {
        for (int64_t j = 0; j < inner; ++j) row[j] = static_cast<float>(double(row[j]) * acc[j]);
      }
    }
  }
}

class L2 final : public SliceStage, public sdk::StageDefaults {
 public:
  static constexpr const char* kName = "norm.l2";
  static constexpr const char* kDoc =
      "y = x / max(||x||_2, eps) along `axis` (or over `all`), as torch.nn.functional.normalize; "
      "the norm is accumulated in double, so it neither overflows nor underflows for any finite "
      "float32; a zero vector stays zero. In place. Along the stream axis (or `all` with one) it "
      "needs the whole input.";
  static constexpr const char* kExample = "- use: norm.l2\n  with: {axis: -1, eps: 1.0e-12}";
  static constexpr fp_param_desc kParams[] = {
      sdk::Param::Axis("axis", "-1").doc("axis the vectors run along: a name, an index (negative from the end) or all"),
      sdk::Param::Float("eps", "1e-12").at_least(0).doc("lower bound of the divisor (torch's eps)")};

  explicit L2(const sdk::Params& p) : SliceStage(p.s("axis")), eps_(p.f("eps")) {}

 protected:
  void apply(float* data, const Layout& l) override {
    if (l.inner == 1) {
      l2_rows(data, l.outer, l.len, eps_);
      return;
    }
    acc_.resize(static_cast<size_t>(l.inner));
    fscale_.resize(static_cast<size_t>(l.inner));
    l2_strided(data, l, eps_, acc_.data(), fscale_.data());
  }

 private:
  double eps_;
  std::vector<double> acc_;
  std::vector<float> fscale_;
};

}  // namespace

fp_stage_desc l2_stage() { return sdk::stage<L2>(); }

}  // namespace featpipe::norm
