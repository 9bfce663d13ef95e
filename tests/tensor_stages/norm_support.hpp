// Helpers for the norm/math/tensor tests: run one step on an in-memory
// tensor through the engine, and straightforward float64 references.
#pragma once

#include "test_support.hpp"

#include <featpipe/featpipe.hpp>

#include <functional>
#include <string>
#include <vector>

namespace featpipe::test {

// A tensor with named axes (no stream axis unless given).
Tensor make_tensor(std::vector<int64_t> shape, std::vector<std::string> axes, std::vector<float> data);

// The pipeline `stages:` holding `steps` (YAML list items, indented by two),
// loaded with `input`'s spec (stream axis `stream_axis`, -1 none).
std::shared_ptr<const Pipeline> load_steps(const std::string& steps, const Tensor& input, int stream_axis = -1,
                                           const std::string& source_name = "norm-test.yaml");
// Runs `steps` on `input` (batch) and returns the result.
Tensor run_steps(const std::string& steps, const Tensor& input, int stream_axis = -1);

// tests/tensor_stages/golden/<name>.npy.
npy::Array golden(const std::string& name);
fs::path golden_dir();

// Flat indices of every slice of `shape` along `axis` (-1: one slice of all).
std::vector<std::vector<size_t>> slices(const std::vector<int64_t>& shape, int axis);

// float64 references, written plainly from the definitions.
std::vector<double> ref_l2(const Tensor& x, int axis, double eps);
std::vector<double> ref_minmax(const Tensor& x, int axis, double lo, double hi);
std::vector<double> ref_standardize(const Tensor& x, int axis, double eps);
std::vector<double> ref_pool(const Tensor& x, const std::vector<int>& axes, const std::string& op, double p,
                             std::vector<int64_t>* out_shape);

// max |a - b| and the bound 1e-5 · max(1, max|ref|) of spec §7.
double max_diff(const std::vector<float>& ours, const std::vector<double>& ref);
double bound(const std::vector<double>& ref);
std::vector<double> to_double(const std::vector<float>& v);

}  // namespace featpipe::test
