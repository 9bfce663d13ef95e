// norm.l2 against a float64 reference, at the extremes of float32: zero
// rows, rows at 1e-30, 1e30, 1e38 and 1e-38 scale, subnormals; along the
// last axis, a named axis, a middle axis and `all`.
#include "norm_support.hpp"

#include <gtest/gtest.h>

#include <cfloat>
#include <cmath>
#include <cstdio>
#include <random>

namespace featpipe::test {
namespace {

constexpr int64_t kRows = 12, kCols = 16;

// Rows: zero, 1e-30, 1e30, 1e38 (elements up to ±3.3e38), 1e-38 (partly
// subnormal), one huge element among tiny ones, all FLT_MAX, subnormals
// only, then ordinary rows.
std::vector<float> extreme_rows() {
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> u(-3.3f, 3.3f);
  std::vector<float> x(kRows * kCols);
  for (auto& v : x) v = u(rng);
  auto row = [&](int r) { return x.data() + r * kCols; };
  for (int c = 0; c < kCols; ++c) {
    row(0)[c] = 0.0f;
    row(1)[c] *= 1e-30f;
    row(2)[c] *= 1e30f;
    row(3)[c] *= 1e38f;
    row(4)[c] *= 1e-38f;
    row(5)[c] = c == 7 ? 3e38f : 1e-38f;
    row(6)[c] = c % 2 ? FLT_MAX : -FLT_MAX;
    row(7)[c] = static_cast<float>(c + 1) * FLT_TRUE_MIN;
  }
  return x;
}

double row_norm(const float* y, int64_t n, int64_t stride = 1) {
  double s = 0;
  for (int64_t k = 0; k < n; ++k) s += double(y[k * stride]) * double(y[k * stride]);
  return std::sqrt(s);
}

std::string num(double v) {
  char b[32];
  std::snprintf(b, sizeof b, "%.17g", v);
  return b;
}

void expect_all_finite(const std::vector<float>& y) {
  for (float v : y) ASSERT_TRUE(std::isfinite(v)) << "non-finite output " << v;
}

TEST(NormL2, LastAxisMatchesFloat64ReferenceAtExtremeScales) {
  const Tensor x = make_tensor({kRows, kCols}, {"row", "col"}, extreme_rows());
  const Tensor y = run_steps("  - use: norm.l2\n", x);
  ASSERT_EQ(y.shape, x.shape);
  expect_all_finite(y.data);
  const auto ref = ref_l2(x, 1, 1e-12);
  EXPECT_LE(max_diff(y.data, ref), bound(ref));
  // Rows 1 (1e-30) and 4 (1e-38) have norms below eps: clamped as torch, so tiny.
  EXPECT_LT(row_norm(&y.data[1 * kCols], kCols), 1e-15);
  // The large rows come out with unit length (torch's float32 norm overflows to inf).
  for (int r : {2, 3, 5, 6, 8, 9, 10, 11}) EXPECT_NEAR(row_norm(&y.data[r * kCols], kCols), 1.0, 1e-6) << "row " << r;
  for (int c = 0; c < kCols; ++c) EXPECT_EQ(y.data[c], 0.0f) << "zero row must stay zero";
}

TEST(NormL2, TinyRowsComeOutUnitLengthWhenEpsAllows) {
  const Tensor x = make_tensor({kRows, kCols}, {"row", "col"}, extreme_rows());
  const Tensor y = run_steps("  - use: norm.l2\n    with: {axis: col, eps: 0}\n", x);
  expect_all_finite(y.data);
  const auto ref = ref_l2(x, 1, 0.0);
  EXPECT_LE(max_diff(y.data, ref), bound(ref));
  for (int r = 1; r < kRows; ++r) EXPECT_NEAR(row_norm(&y.data[r * kCols], kCols), 1.0, 1e-6) << "row " << r;
  for (int c = 0; c < kCols; ++c) EXPECT_EQ(y.data[c], 0.0f) << "zero row must stay zero (no 0/0)";
}

TEST(NormL2, MiddleAxisIsStridedAndExact) {
  // [2, 16, 12]: vectors run along the middle axis; vector (a, :, r) is
  // extreme row r (negated for a = 1).
  const auto rows = extreme_rows();
  std::vector<float> data(2 * kCols * kRows);
  for (int a = 0; a < 2; ++a)
    for (int c = 0; c < kCols; ++c)
      for (int r = 0; r < kRows; ++r) data[(a * kCols + c) * kRows + r] = (a ? -1.0f : 1.0f) * rows[r * kCols + c];
  const Tensor x = make_tensor({2, kCols, kRows}, {"channel", "height", "width"}, data);
  for (const char* axis : {"1", "height", "-2"}) {
    SCOPED_TRACE(axis);
    for (double eps : {1e-12, 0.0}) {
      const Tensor y = run_steps(std::string("  - use: norm.l2\n    with: {axis: ") + axis +
                                     ", eps: " + num(eps) + "}\n",
                                 x);
      expect_all_finite(y.data);
      const auto ref = ref_l2(x, 1, eps);
      EXPECT_LE(max_diff(y.data, ref), bound(ref));
      if (eps == 0)
        for (int a = 0; a < 2; ++a)
          for (int r = 1; r < kRows; ++r)
            EXPECT_NEAR(row_norm(&y.data[a * kCols * kRows + r], kCols, kRows), 1.0, 1e-6) << "vector " << r;
    }
  }
}

TEST(NormL2, FirstAxisAndNamedAxis) {
  const auto rows = extreme_rows();
  const Tensor x = make_tensor({kRows, kCols}, {"row", "col"}, rows);
  const Tensor y = run_steps("  - use: norm.l2\n    with: {axis: row}\n", x);
  const auto ref = ref_l2(x, 0, 1e-12);
  EXPECT_LE(max_diff(y.data, ref), bound(ref));
  for (int c = 0; c < kCols; ++c) EXPECT_NEAR(row_norm(&y.data[c], kRows, kCols), 1.0, 1e-6);
}

TEST(NormL2, AllAxesAtTheEdgesOfFloat32) {
  const auto rows = extreme_rows();
  for (float scale : {1.0f, 1e-38f, 1e-30f}) {
    SCOPED_TRACE(scale);
    // Rows 3 and 6 only (1e38 scale and FLT_MAX) when scale is 1: the whole
    // tensor's norm is ~1e39, beyond float32; scaled down, ~1e-38 and below.
    std::vector<float> data;
    for (int r : {3, 6, 2, 8})
      for (int c = 0; c < kCols; ++c) data.push_back(scale == 1.0f ? rows[r * kCols + c] : rows[8 * kCols + c] * scale);
    const Tensor x = make_tensor({4, kCols}, {"row", "col"}, data);
    for (double eps : {1e-12, 0.0}) {
      const Tensor y =
          run_steps("  - use: norm.l2\n    with: {axis: all, eps: " + num(eps) + "}\n", x);
      expect_all_finite(y.data);
      const auto ref = ref_l2(x, -1, eps);
      EXPECT_LE(max_diff(y.data, ref), bound(ref));
      if (eps == 0 || scale == 1.0f) EXPECT_NEAR(row_norm(y.data.data(), 4 * kCols), 1.0, 1e-6);
    }
  }
}

}  // namespace
}  // namespace featpipe::test
