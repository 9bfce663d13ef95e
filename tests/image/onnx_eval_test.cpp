// The constant evaluator (plugins/cnn/onnx_eval.*) on the ops swin's
// shape and mask chains use, against ONNX's definitions worked by hand.
#include "onnx_eval.hpp"

#include <gtest/gtest.h>

#include <cmath>

namespace featpipe::test {
namespace {

using cnn::ConstValue;
using TP = onnx::TensorProto;

ConstValue ints(std::vector<int64_t> v, std::vector<int64_t> dims = {}) {
  ConstValue c;
  c.type = TP::INT64;
  c.dims = dims.empty() ? std::vector<int64_t>{static_cast<int64_t>(v.size())} : dims;
  c.i = std::move(v);
  return c;
}

ConstValue floats(std::vector<double> v, std::vector<int64_t> dims = {}) {
  ConstValue c;
  c.dims = dims.empty() ? std::vector<int64_t>{static_cast<int64_t>(v.size())} : dims;
  c.f = std::move(v);
  return c;
}

ConstValue scalar(int64_t v) { return ints({v}, {}); }

onnx::NodeProto node(const std::string& op) {
  onnx::NodeProto n;
  n.set_op_type(op);
  return n;
}

void set_int(onnx::NodeProto& n, const char* name, int64_t v) {
  auto* a = n.add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INT);
  a->set_i(v);
}

// The single output of `n` on `in`.
ConstValue eval(const onnx::NodeProto& n, std::vector<const ConstValue*> in) {
  EXPECT_TRUE(cnn::evaluable(n.op_type())) << n.op_type();
  auto out = cnn::evaluate(n, 14, in);
  EXPECT_TRUE(out && out->size() == 1) << n.op_type();
  return out && out->size() == 1 ? out->front() : ConstValue{};
}

TEST(OnnxEval, IntegerModTakesTheDivisorsSignAndFmodTheDividends) {
  const ConstValue a = ints({7, -7, 7, -7, 6}), b = ints({3, 3, -3, -3, 3});
  EXPECT_EQ(eval(node("Mod"), {&a, &b}).i, (std::vector<int64_t>{1, 2, -2, -1, 0}));
  onnx::NodeProto fmod = node("Mod");
  set_int(fmod, "fmod", 1);
  EXPECT_EQ(eval(fmod, {&a, &b}).i, (std::vector<int64_t>{1, -1, 1, -1, 0}));
  const ConstValue zero = ints({0, 1, 1, 1, 1});
  EXPECT_FALSE(cnn::evaluate(node("Mod"), 14, {&a, &zero}));
}

TEST(OnnxEval, RangeCountsUpDownAndNotAtAll) {
  const ConstValue s = scalar(2), l = scalar(9), d = scalar(3), down = scalar(-4), empty_end = scalar(2);
  const ConstValue up = eval(node("Range"), {&s, &l, &d});
  EXPECT_EQ(up.i, (std::vector<int64_t>{2, 5, 8}));
  EXPECT_EQ(up.dims, (std::vector<int64_t>{3}));
  EXPECT_EQ(eval(node("Range"), {&l, &s, &down}).i, (std::vector<int64_t>{9, 5}));
  EXPECT_TRUE(eval(node("Range"), {&s, &empty_end, &d}).i.empty());
  const ConstValue fs = floats({0.5}, {}), fl = floats({2.0}, {}), fd = floats({0.5}, {});
  EXPECT_EQ(eval(node("Range"), {&fs, &fl, &fd}).f, (std::vector<double>{0.5, 1.0, 1.5}));
}

TEST(OnnxEval, NotFlipsBooleans) {
  ConstValue b = ints({1, 0, 1});
  b.type = TP::BOOL;
  const ConstValue out = eval(node("Not"), {&b});
  EXPECT_EQ(out.type, TP::BOOL);
  EXPECT_EQ(out.i, (std::vector<int64_t>{0, 1, 0}));
}

TEST(OnnxEval, TransposeByPermAndByDefaultReversed) {
  const ConstValue x = ints({0, 1, 2, 3, 4, 5}, {1, 2, 3});
  onnx::NodeProto perm = node("Transpose");
  auto* a = perm.add_attribute();
  a->set_name("perm");
  a->set_type(onnx::AttributeProto::INTS);
  for (int64_t p : {0, 2, 1}) a->add_ints(p);
  const ConstValue t = eval(perm, {&x});
  EXPECT_EQ(t.dims, (std::vector<int64_t>{1, 3, 2}));
  EXPECT_EQ(t.i, (std::vector<int64_t>{0, 3, 1, 4, 2, 5}));
  const ConstValue r = eval(node("Transpose"), {&x});
  EXPECT_EQ(r.dims, (std::vector<int64_t>{3, 2, 1}));
  EXPECT_EQ(r.i, (std::vector<int64_t>{0, 3, 1, 4, 2, 5}));
}

TEST(OnnxEval, ScatterNDReplacesElementsAndRows) {
  const ConstValue data = floats({0, 0, 0, 0, 0, 0}, {2, 3});
  // Elements (1, 2) and (0, -3), as swin's mask slices assign them.
  const ConstValue at = ints({1, 2, 0, -3}, {2, 2}), values = floats({7, 8}, {2});
  EXPECT_EQ(eval(node("ScatterND"), {&data, &at, &values}).f, (std::vector<double>{8, 0, 0, 0, 0, 7}));
  // A whole row.
  const ConstValue row = ints({1}, {1, 1}), row_values = floats({4, 5, 6}, {1, 3});
  EXPECT_EQ(eval(node("ScatterND"), {&data, &row, &row_values}).f, (std::vector<double>{0, 0, 0, 4, 5, 6}));
  const ConstValue outside = ints({2, 0}, {1, 2}), one = floats({1}, {1});
  EXPECT_FALSE(cnn::evaluate(node("ScatterND"), 14, {&data, &outside, &one}));
}

TEST(OnnxEval, PowOfFloatsWithAFloatOrIntegerExponent) {
  const ConstValue base = floats({32, 4}), half = floats({-0.5}, {}), two = ints({2}, {});
  const ConstValue r = eval(node("Pow"), {&base, &half});
  ASSERT_EQ(r.f.size(), 2u);
  EXPECT_DOUBLE_EQ(r.f[0], 1 / std::sqrt(32.0));
  EXPECT_DOUBLE_EQ(r.f[1], 0.5);
  EXPECT_EQ(eval(node("Pow"), {&base, &two}).f, (std::vector<double>{1024, 16}));
}

}  // namespace
}  // namespace featpipe::test
