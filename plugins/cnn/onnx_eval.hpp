// A small evaluator for the ONNX ops that compute shapes and other constants
// (Shape, Gather, Concat, Slice, Expand, ...): what onnx_normalize folds
// into initializers. Values are held as double (float types) or int64 (the
// integer and bool types); Slice's INT64_MAX ends stay exact.
#pragma once

#include <onnx/onnx_pb.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace featpipe::cnn {

struct ConstValue {
  int32_t type = onnx::TensorProto::FLOAT;  // TensorProto::DataType
  std::vector<int64_t> dims;
  std::vector<double> f;   // float types
  std::vector<int64_t> i;  // integer types and bool

  bool is_float() const;
  size_t size() const { return is_float() ? f.size() : i.size(); }
};

// Nullopt for a data type the evaluator does not hold (float16, strings...).
std::optional<ConstValue> from_tensor(const onnx::TensorProto& t);
onnx::TensorProto to_tensor(const ConstValue& v, const std::string& name);

// Whether `op` is one evaluate() computes.
bool evaluable(const std::string& op);
// The node's outputs from its inputs (all constant; empty names for absent
// optional inputs give nullptr); nullopt where the node is outside what the
// evaluator covers (an attribute or a type it does not handle).
std::optional<std::vector<ConstValue>> evaluate(const onnx::NodeProto& node, int64_t opset,
                                                const std::vector<const ConstValue*>& inputs);

}  // namespace featpipe::cnn
