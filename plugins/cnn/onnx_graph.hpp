// Just enough of an ONNX model file to name things: each node's name, op
// type, inputs and outputs, and the graph inputs' shapes, read straight from
// the protobuf wire format (no protobuf dependency; weights are skipped, not
// copied).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace featpipe::cnn {

struct OnnxNode {
  std::string name, op_type;
  std::vector<std::string> inputs, outputs;
};

struct OnnxGraph {
  std::vector<OnnxNode> nodes;
  std::vector<std::string> inputs, outputs;  // graph inputs (without initializers) and outputs
  std::vector<std::vector<int64_t>> input_dims;  // per input; -1 where the size is named or absent
};

// Throws std::runtime_error when the file cannot be read or parsed.
OnnxGraph read_onnx_graph(const std::string& path);

}  // namespace featpipe::cnn
