// Every norm.* and math.* stage against (1) a float64 reference computed
// here, (2) the committed torch/numpy golden file (make_golden.py), and
// (3) when torch is installed, make_golden.py rerun live (one test).
#include "norm_support.hpp"

#include <featpipe/sdk.hpp>
#include <gtest/gtest.h>

#include <dlfcn.h>

#include <cmath>
#include <sstream>
#include <functional>
#include <map>

namespace featpipe::test {
namespace {

struct Case {
  const char* name;    // golden file
  const char* input;   // x2, x3 or absx2
  const char* steps;   // the step under test
  std::function<std::vector<double>(const Tensor&, std::vector<int64_t>*)> ref;  // float64, here
};
// ctest lists the case by name, not as a byte dump.
void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

Tensor input(const std::string& which) {
  const bool three = which == "x3";
  npy::Array a = npy::read((golden_dir() / (three ? "x3.npy" : "x2.npy")).string());
  if (which == "absx2")
    for (float& v : a.data) v = std::fabs(v);
  return three ? make_tensor(a.shape, {"channel", "height", "width"}, a.data)
               : make_tensor(a.shape, {"row", "col"}, a.data);
}

std::vector<double> same_shape(const Tensor& x, std::vector<int64_t>* shape, std::vector<double> v) {
  *shape = x.shape;
  return v;
}

std::vector<double> elementwise(const Tensor& x, std::vector<int64_t>* shape, double (*f)(double, double), double a) {
  std::vector<double> y;
  for (float v : x.data) y.push_back(f(v, a));
  return same_shape(x, shape, y);
}

double spow(double x, double a) { return (x > 0 ? 1 : x < 0 ? -1 : 0) * std::pow(std::fabs(x), a); }
double logoff(double x, double off) { return std::log(double(float(x) + float(off))); }

using S = std::vector<int64_t>*;
const Case kCases[] = {
    {"l2_x2_last", "x2", "  - use: norm.l2\n", [](const Tensor& x, S s) { return same_shape(x, s, ref_l2(x, 1, 1e-12)); }},
    {"l2_x2_axis0", "x2", "  - use: norm.l2\n    with: {axis: row}\n",
     [](const Tensor& x, S s) { return same_shape(x, s, ref_l2(x, 0, 1e-12)); }},
    {"l2_x3_mid", "x3", "  - use: norm.l2\n    with: {axis: height}\n",
     [](const Tensor& x, S s) { return same_shape(x, s, ref_l2(x, 1, 1e-12)); }},
    {"l2_x2_all", "x2", "  - use: norm.l2\n    with: {axis: all}\n",
     [](const Tensor& x, S s) { return same_shape(x, s, ref_l2(x, -1, 1e-12)); }},
    {"l2_x2_eps", "x2", "  - use: norm.l2\n    with: {eps: 5.0}\n",
     [](const Tensor& x, S s) { return same_shape(x, s, ref_l2(x, 1, 5.0)); }},
    {"minmax_x2_last", "x2", "  - use: norm.minmax\n    with: {axis: -1, min: -1, max: 2}\n",
     [](const Tensor& x, S s) { return same_shape(x, s, ref_minmax(x, 1, -1, 2)); }},
    {"minmax_x2_axis0", "x2", "  - use: norm.minmax\n    with: {axis: 0}\n",
     [](const Tensor& x, S s) { return same_shape(x, s, ref_minmax(x, 0, 0, 1)); }},
    {"minmax_x3_mid", "x3", "  - use: norm.minmax\n    with: {axis: height}\n",
     [](const Tensor& x, S s) { return same_shape(x, s, ref_minmax(x, 1, 0, 1)); }},
    {"minmax_x2_all", "x2", "  - use: norm.minmax\n    with: {axis: all}\n",
     [](const Tensor& x, S s) { return same_shape(x, s, ref_minmax(x, -1, 0, 1)); }},
    {"standardize_x2_last", "x2", "  - use: norm.standardize\n    with: {axis: col}\n",
     [](const Tensor& x, S s) { return same_shape(x, s, ref_standardize(x, 1, 1e-8)); }},
    {"standardize_x2_axis0", "x2", "  - use: norm.standardize\n    with: {axis: row}\n",
     [](const Tensor& x, S s) { return same_shape(x, s, ref_standardize(x, 0, 1e-8)); }},
    {"standardize_x3_mid", "x3", "  - use: norm.standardize\n    with: {axis: -2}\n",
     [](const Tensor& x, S s) { return same_shape(x, s, ref_standardize(x, 1, 1e-8)); }},
    {"standardize_x2_all", "x2", "  - use: norm.standardize\n    with: {axis: all}\n",
     [](const Tensor& x, S s) { return same_shape(x, s, ref_standardize(x, -1, 1e-8)); }},
    {"power_x2_05", "x2", "  - use: norm.power\n", [](const Tensor& x, S s) { return elementwise(x, s, spow, 0.5); }},
    {"power_x2_03", "x2", "  - use: norm.power\n    with: {alpha: 0.3}\n",
     [](const Tensor& x, S s) { return elementwise(x, s, spow, 0.3); }},
    {"power_x2_2", "x2", "  - use: norm.power\n    with: {alpha: 2}\n",
     [](const Tensor& x, S s) { return elementwise(x, s, spow, 2.0); }},
    {"log_absx2", "absx2", "  - use: math.log\n", [](const Tensor& x, S s) { return elementwise(x, s, logoff, 1e-6); }},
    {"log_absx2_offset1", "absx2", "  - use: math.log\n    with: {offset: 1}\n",
     [](const Tensor& x, S s) { return elementwise(x, s, logoff, 1.0); }},
    {"pool_avg_x3_hw", "x3", "  - use: math.pool\n    with: {op: avg, axes: [height, width]}\n",
     [](const Tensor& x, S s) { return ref_pool(x, {1, 2}, "avg", 0, s); }},
    {"pool_max_x3_0", "x3", "  - use: math.pool\n    with: {op: max, axes: [channel]}\n",
     [](const Tensor& x, S s) { return ref_pool(x, {0}, "max", 0, s); }},
    {"pool_gem_x3_hw", "x3", "  - use: math.pool\n    with: {op: gem, axes: [height, width]}\n",
     [](const Tensor& x, S s) { return ref_pool(x, {1, 2}, "gem", 3, s); }},
    {"pool_gem_x3_last_p2", "x3", "  - use: math.pool\n    with: {op: gem, axes: [-1], p: 2}\n",
     [](const Tensor& x, S s) { return ref_pool(x, {2}, "gem", 2, s); }},
    {"pool_avg_x2_all", "x2", "  - use: math.pool\n    with: {op: avg, axes: [all]}\n",
     [](const Tensor& x, S s) { return ref_pool(x, {0, 1}, "avg", 0, s); }},
};

class Stages : public ::testing::TestWithParam<Case> {};

TEST_P(Stages, MatchFloat64ReferenceAndTorchGolden) {
  const Case& c = GetParam();
  const Tensor x = input(c.input);
  const Tensor y = run_steps(c.steps, x);

  std::vector<int64_t> shape;
  const std::vector<double> ref = c.ref(x, &shape);
  // Pooling every axis leaves one value as a [1] tensor (numpy/torch: 0-d).
  if (shape.empty()) shape = {1};
  EXPECT_EQ(y.shape, shape);
  EXPECT_LE(max_diff(y.data, ref), bound(ref)) << "vs the float64 reference";

  const npy::Array g = golden(c.name);
  EXPECT_EQ(g.shape.empty() ? std::vector<int64_t>{1} : g.shape, shape) << "golden shape";
  const auto gref = to_double(g.data);
  EXPECT_LE(max_diff(y.data, gref), bound(gref)) << "vs the committed golden " << c.name;
}

INSTANTIATE_TEST_SUITE_P(Golden, Stages, ::testing::ValuesIn(kCases),
                         [](const ::testing::TestParamInfo<Case>& i) { return std::string(i.param.name); });

// make_golden.py rerun now (one process for all cases): every stage agrees
// with torch/numpy as installed, and the committed goldens are current.
TEST(NormGolden, LiveTorchRecomputeAgrees) {
  if (!python_has("numpy torch")) GTEST_SKIP() << "torch missing: committed goldens only";
  TempDir dir;
  const CmdResult r = run_shell(quote(python()) + " " + quote((source_dir() / "tests/tensor_stages/make_golden.py").string()) +
                                " " + quote(dir.path().string()));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.name);
    const Tensor y = run_steps(c.steps, input(c.input));
    const auto live = to_double(npy::read((dir / (std::string(c.name) + ".npy")).string()).data);
    EXPECT_LE(max_diff(y.data, live), bound(live)) << "vs make_golden.py run now";
    const auto committed = to_double(golden(c.name).data);
    ASSERT_EQ(live.size(), committed.size());
    for (size_t k = 0; k < live.size(); ++k) EXPECT_NEAR(live[k], committed[k], 1e-9) << "golden out of date";
  }
}

// Each stage's documented example (`featpipe stages NAME`) runs as written
// on a [frame, height, width] tensor of positive values.
TEST(NormStages, DocumentedExamplesRun) {
  int ran = 0;
  for (const char* file : {FEATPIPE_NORM_PLUGIN_FILE, FEATPIPE_MATH_PLUGIN_FILE}) {
    void* lib = dlopen(file, RTLD_NOW | RTLD_LOCAL);
    ASSERT_NE(lib, nullptr) << dlerror();
    auto entry = reinterpret_cast<fp_plugin_entry_fn>(dlsym(lib, FP_PLUGIN_ENTRY_SYMBOL));
    ASSERT_NE(entry, nullptr);
    const fp_plugin* p = entry();
    for (uint32_t k = 0; k < p->stage_count; ++k) {
      const fp_stage_desc& d = p->stages[k];
      SCOPED_TRACE(d.name);
      std::string steps;  // the example, indented under `stages:`
      std::string line;
      std::istringstream is(d.example);
      while (std::getline(is, line)) steps += "  " + line + "\n";
      std::vector<float> data(5 * 3 * 4);
      for (size_t i = 0; i < data.size(); ++i) data[i] = 0.25f + float((i * 7) % 11);
      const Tensor x = make_tensor({5, 3, 4}, {"frame", "height", "width"}, data);
      const Tensor y = run_steps(steps, x);
      EXPECT_GT(y.data.size(), 0u);
      for (float v : y.data) EXPECT_TRUE(std::isfinite(v));
      ++ran;
    }
    dlclose(lib);
  }
  EXPECT_EQ(ran, 6);
}

TEST(NormStages, MinmaxConstantSliceMapsToMin) {
  const Tensor x = make_tensor({2, 3}, {"row", "col"}, {4, 4, 4, 1, 2, 3});
  const Tensor y = run_steps("  - use: norm.minmax\n    with: {axis: col, min: -2, max: 5}\n", x);
  EXPECT_EQ(y.data, (std::vector<float>{-2, -2, -2, -2, 1.5, 5}));
}

TEST(NormStages, StandardizeConstantSliceIsZeroAndUsesPopulationStd) {
  const Tensor x = make_tensor({2, 2}, {"row", "col"}, {7, 7, 1, 3});
  const Tensor y = run_steps("  - use: norm.standardize\n    with: {axis: col}\n", x);
  EXPECT_NEAR(y.data[0], 0, 1e-6);
  EXPECT_NEAR(y.data[1], 0, 1e-6);
  EXPECT_NEAR(y.data[2], -1, 1e-6);  // mean 2, population std 1
  EXPECT_NEAR(y.data[3], 1, 1e-6);
}

TEST(NormStages, PowerKeepsSignAndZero) {
  const Tensor x = make_tensor({4}, {"feature"}, {-4, 0, 9, -0.25});
  const Tensor y = run_steps("  - use: norm.power\n", x);
  EXPECT_EQ(y.data, (std::vector<float>{-2, 0, 3, -0.5}));
}

TEST(NormStages, GemClampsAtOneMillionth) {
  // Negative and zero values count as 1e-6 in GeM; p = 1 is then the mean.
  const Tensor x = make_tensor({1, 4}, {"row", "col"}, {-5, 0, 2, 4});
  const Tensor y = run_steps("  - use: math.pool\n    with: {op: gem, axes: [col], p: 1}\n", x);
  ASSERT_EQ(y.shape, (std::vector<int64_t>{1}));
  EXPECT_NEAR(y.data[0], (1e-6 + 1e-6 + 2 + 4) / 4, 1e-6);
}

TEST(NormStages, BadParametersAreRefusedNamingTheLine) {
  const Tensor x = make_tensor({2, 3}, {"row", "col"}, {1, 2, 3, 4, 5, 6});
  // max <= min
  try {
    load_steps("  - use: norm.minmax\n    with:\n      axis: col\n      min: 1\n      max: 1\n", x, -1, "bad.yaml");
    FAIL() << "minmax with max == min was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("bad.yaml:8"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("max must be > min"), std::string::npos) << e.what();
  }
  // an axis pooled twice
  try {
    load_steps("  - use: math.pool\n    with:\n      axes: [col, -1]\n", x, -1, "bad.yaml");
    FAIL() << "pool with a repeated axis was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("bad.yaml:6"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("listed twice"), std::string::npos) << e.what();
  }
}

TEST(NormStages, AxisNotInTheInputReportsThePipelineLine) {
  const Tensor x = make_tensor({2, 3}, {"row", "col"}, {1, 2, 3, 4, 5, 6});
  struct Bad {
    const char* steps;
    const char* where;  // file:line of the `axis`/`axes` entry
    const char* says;
  };
  const Bad cases[] = {
      {"  - use: norm.l2\n    with:\n      axis: mel\n", "axis.yaml:6", "axis 'mel' not in the input's axes"},
      {"  - use: norm.power\n  - use: norm.l2\n    with:\n      axis: 2\n", "axis.yaml:7", "out of range"},
      {"  - use: norm.minmax\n    with:\n      axis: -3\n", "axis.yaml:6", "out of range"},
      {"  - use: norm.standardize\n    with:\n      axis: frame\n", "axis.yaml:6", "'frame' not in"},
      {"  - use: math.pool\n    with:\n      axes: [row, time]\n", "axis.yaml:6", "'time' not in"},
  };
  for (const Bad& b : cases) {
    SCOPED_TRACE(b.steps);
    try {
      load_steps(b.steps, x, -1, "axis.yaml");
      ADD_FAILURE() << "accepted an axis the input does not have";
    } catch (const Error& e) {
      const std::string msg = e.what();
      EXPECT_NE(msg.find(b.where), std::string::npos) << msg;
      EXPECT_NE(msg.find(b.says), std::string::npos) << msg;
    }
  }
}

}  // namespace
}  // namespace featpipe::test
