// OpenCV DNN's errors in a user's terms. Its text ("> Node [Identity@ai.onnx]:
// (onnx_node!x) parse error: ... (-215:Assertion failed) inputs.size() in
// function 'getMemoryShapes'") names the node and op somewhere inside; the
// message names them plainly, says why in a line, and what to try.
#pragma once

#include "onnx_graph.hpp"

#include <string>

namespace featpipe::cnn {

// What OpenCV's error text says, when it says it.
struct OpenCvFailure {
  std::string node;         // the ONNX node's name (or its first output when unnamed)
  std::string op;           // its op type
  std::string reason;       // OpenCV's own short reason ("inputs.size()")
  bool unsupported = false;  // OpenCV has no layer for `op` at all
};

OpenCvFailure parse_opencv_error(const std::string& text, const OnnxGraph& graph);

// The message for a model OpenCV cannot import ("cannot load ONNX model M:
// ..."), or cannot run at `input` ("OpenCV DNN cannot run M on ...").
std::string load_error_message(const std::string& model, const std::string& text, const OnnxGraph& graph);
std::string run_error_message(const std::string& model, const std::string& input, const std::string& text,
                              const OnnxGraph& graph);

}  // namespace featpipe::cnn
