// What the plugin needs to name things in an ONNX model: each node's name,
// op type, inputs and outputs, the graph inputs' shapes and the opset, read
// with the ONNX project's protobuf types (onnx_model.hpp loads the model).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace onnx {
class ModelProto;
}

namespace featpipe::cnn {

struct OnnxNode {
  std::string name, op_type;
  std::vector<std::string> inputs, outputs;
};

struct OnnxGraph {
  std::vector<OnnxNode> nodes;
  std::vector<std::string> inputs, outputs;  // graph inputs (without initializers) and outputs
  std::vector<std::vector<int64_t>> input_dims;  // per input; -1 where the size is named or absent
  int64_t opset = 0;  // of the default (ai.onnx) domain; 0 when not known
};

OnnxGraph describe_graph(const onnx::ModelProto& model);

// Throws std::runtime_error when the file cannot be read or parsed.
OnnxGraph read_onnx_graph(const std::string& path);

}  // namespace featpipe::cnn
