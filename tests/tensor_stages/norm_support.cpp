#include "norm_support.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>

namespace featpipe::test {

Tensor make_tensor(std::vector<int64_t> shape, std::vector<std::string> axes, std::vector<float> data) {
  Tensor t;
  t.shape = std::move(shape);
  t.axes = std::move(axes);
  t.data = std::move(data);
  return t;
}

std::shared_ptr<const Pipeline> load_steps(const std::string& steps, const Tensor& input, int stream_axis,
                                           const std::string& source_name) {
  TensorSpec spec{input.axes, input.shape, stream_axis};
  if (stream_axis >= 0) spec.shape[stream_axis] = -1;
  LoadOptions opts;
  opts.input = spec;
  const std::string yaml = "featpipe: 1\nname: norm-test\nstages:\n" + steps;
  return Pipeline::parse(yaml, source_name, source_dir().string(), opts);
}

Tensor run_steps(const std::string& steps, const Tensor& input, int stream_axis) {
  auto pipe = load_steps(steps, input, stream_axis);
  return pipe->session()->run(input);
}

fs::path golden_dir() { return source_dir() / "tests" / "tensor_stages" / "golden"; }

npy::Array golden(const std::string& name) { return npy::read((golden_dir() / (name + ".npy")).string()); }

std::vector<std::vector<size_t>> slices(const std::vector<int64_t>& shape, int axis) {
  size_t n = 1;
  for (int64_t d : shape) n *= static_cast<size_t>(d);
  if (axis < 0) {
    std::vector<size_t> all(n);
    for (size_t k = 0; k < n; ++k) all[k] = k;
    return {all};
  }
  // Group flat indices by their coordinates on every axis but `axis`.
  std::vector<std::vector<size_t>> groups;
  std::vector<size_t> strides(shape.size(), 1);
  for (int k = static_cast<int>(shape.size()) - 2; k >= 0; --k) strides[k] = strides[k + 1] * shape[k + 1];
  for (size_t i = 0; i < n; ++i) {
    if ((i / strides[axis]) % shape[axis] != 0) continue;  // slice starts where the coordinate is 0
    std::vector<size_t> s;
    for (int64_t j = 0; j < shape[axis]; ++j) s.push_back(i + j * strides[axis]);
    groups.push_back(s);
  }
  return groups;
}

std::vector<double> ref_l2(const Tensor& x, int axis, double eps) {
  std::vector<double> y(x.data.size());
  for (const auto& s : slices(x.shape, axis)) {
    double sum = 0;
    for (size_t i : s) sum += double(x.data[i]) * double(x.data[i]);
    const double d = std::max(std::sqrt(sum), eps);
    for (size_t i : s) y[i] = sum == 0 ? 0.0 : x.data[i] / d;
  }
  return y;
}

std::vector<double> ref_minmax(const Tensor& x, int axis, double lo, double hi) {
  std::vector<double> y(x.data.size());
  for (const auto& s : slices(x.shape, axis)) {
    double mn = INFINITY, mx = -INFINITY;
    for (size_t i : s) mn = std::min(mn, double(x.data[i])), mx = std::max(mx, double(x.data[i]));
    for (size_t i : s) y[i] = mx > mn ? lo + (x.data[i] - mn) / (mx - mn) * (hi - lo) : lo;
  }
  return y;
}

std::vector<double> ref_standardize(const Tensor& x, int axis, double eps) {
  std::vector<double> y(x.data.size());
  for (const auto& s : slices(x.shape, axis)) {
    double mean = 0, var = 0;
    for (size_t i : s) mean += x.data[i];
    mean /= double(s.size());
    for (size_t i : s) var += (x.data[i] - mean) * (x.data[i] - mean);
    const double sd = std::sqrt(var / double(s.size()));
    for (size_t i : s) y[i] = (x.data[i] - mean) / (sd + eps);
  }
  return y;
}

std::vector<double> ref_pool(const Tensor& x, const std::vector<int>& axes, const std::string& op, double p,
                             std::vector<int64_t>* out_shape) {
  const int r = static_cast<int>(x.shape.size());
  std::vector<bool> pooled(r, false);
  for (int a : axes) pooled[a] = true;
  out_shape->clear();
  for (int k = 0; k < r; ++k)
    if (!pooled[k]) out_shape->push_back(x.shape[k]);
  size_t on = 1;
  for (int64_t d : *out_shape) on *= static_cast<size_t>(d);
  std::vector<std::vector<double>> groups(on);
  for (size_t i = 0; i < x.data.size(); ++i) {
    size_t rest = i, o = 0, ostride = 1;
    for (int k = r - 1; k >= 0; --k) {
      const size_t c = rest % x.shape[k];
      rest /= x.shape[k];
      if (!pooled[k]) o += c * ostride, ostride *= x.shape[k];
    }
    groups[o].push_back(x.data[i]);
  }
  std::vector<double> y(on);
  for (size_t o = 0; o < on; ++o) {
    const auto& g = groups[o];
    if (op == "max") {
      y[o] = *std::max_element(g.begin(), g.end());
    } else if (op == "avg") {
      double s = 0;
      for (double v : g) s += v;
      y[o] = s / double(g.size());
    } else {  // gem
      double s = 0;
      for (double v : g) s += std::pow(std::max(v, 1e-6), p);
      y[o] = std::pow(s / double(g.size()), 1.0 / p);
    }
  }
  return y;
}

double max_diff(const std::vector<float>& ours, const std::vector<double>& ref) {
  EXPECT_EQ(ours.size(), ref.size());
  double m = 0;
  for (size_t k = 0; k < std::min(ours.size(), ref.size()); ++k) {
    const double d = std::fabs(double(ours[k]) - ref[k]);
    if (!std::isfinite(d)) return INFINITY;
    m = std::max(m, d);
  }
  return m;
}

double bound(const std::vector<double>& ref) {
  double m = 1;
  for (double v : ref) m = std::max(m, std::fabs(v));
  return 1e-5 * m;
}

std::vector<double> to_double(const std::vector<float>& v) { return {v.begin(), v.end()}; }

}  // namespace featpipe::test
