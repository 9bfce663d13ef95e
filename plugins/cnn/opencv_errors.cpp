// OpenCV DNN's errors in a user's terms (see opencv_errors.hpp).
#include "opencv_errors.hpp"

#include <algorithm>
#include <regex>

namespace featpipe::cnn {
namespace {

std::string trim(std::string s) {
  const auto b = s.find_first_not_of(" \n\r\t>");
  const auto e = s.find_last_not_of(" \n\r\t>");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

// What to try, from the most to the least likely to help with OpenCV 4.6.
const char* kExportHints =
    "re-export it with another opset (torch.onnx.export(..., opset_version=11), or 12, 13), with constant "
    "folding (do_constant_folding=True), or simplify it (python3 -m onnxsim model.onnx simplified.onnx), which "
    "folds the Identity/Constant/Shape chains OpenCV DNN cannot import";

// When OpenCV cannot take a node even after normalize_onnx, libtorch can.
const char* kTorchHint =
    "the torch backend runs it: export the model with torch.jit.trace (or torch.jit.script) and give the .pt file "
    "as model";

std::string opset_text(const OnnxGraph& g) { return g.opset ? "opset " + std::to_string(g.opset) : ""; }

std::string which_node(const OpenCvFailure& f, const OnnxGraph& g) {
  const std::string opset = opset_text(g);
  std::string t;
  if (f.node.empty()) {
    if (f.op.empty()) return t;
    t.append("an ").append(f.op).append(" node");
    if (!opset.empty()) t.append(" (").append(opset).append(")");
    return t;
  }
  t.append("node '").append(f.node).append("'");
  if (f.op.empty()) return t;
  t.append(" (op ").append(f.op);
  if (!opset.empty()) t.append(", ").append(opset);
  return t.append(")");
}

}  // namespace

OpenCvFailure parse_opencv_error(const std::string& text, const OnnxGraph& graph) {
  OpenCvFailure f;
  std::smatch m;
  // "Node [Identity@ai.onnx]:(onnx_node!copy_weights) parse error: ..."
  if (std::regex_search(text, m, std::regex(R"(Node \[([^@\]]+)(@[^\]]*)?\]:\((?:onnx_node!)?([^)]*)\))"))) {
    f.op = m[1];
    f.node = m[3];
  }
  // "Can't create layer "onnx_node!x" of type "NonZero""
  if (std::regex_search(text, m, std::regex(R"re(Can't create layer "(?:onnx_node!)?([^"]*)" of type "([^"]*)")re"))) {
    f.unsupported = true;
    if (f.node.empty()) f.node = m[1];
    f.op = m[2];
  }
  // The innermost reason: "error: (-215:Assertion failed) inputs.size() in function 'getMemoryShapes'"
  std::string last;
  // CV_Check* text: "error: (-2:Unspecified error) in function '...'\n>
  // (expected: 'node_proto.input_size() == 1'), where\n>  'node_proto.input_size()' is 2 ..."
  if (std::regex_search(text, m, std::regex(R"re(\(expected: '([^']*)'\), where[\s>]*'([^']*)' is ([^\n]*))re"))) {
    last = "OpenCV's check " + m[1].str() + " failed (" + m[2].str() + " is " + trim(m[3]) + ")";
  } else if (const size_t at = text.rfind("error: ("); at != std::string::npos) {
    const size_t colon = text.find(':', at + 8), close = text.find(')', at + 8);
    if (colon != std::string::npos && close != std::string::npos && colon < close) {
      const std::string kind = text.substr(colon + 1, close - colon - 1);
      std::string rest = text.substr(close + 1);
      rest = rest.substr(0, std::min(rest.find(" in function '"), rest.find('\n')));
      last = trim(rest);
      if (kind == "Assertion failed" && !last.empty()) last = "OpenCV's check " + last + " failed";
    }
  }
  f.reason = last.empty() ? trim(text) : last;
  // OpenCV names an unnamed node by its first output: the graph knows its op.
  if (!f.node.empty() && f.op.empty())
    for (const auto& n : graph.nodes)
      if (n.name == f.node || (!n.outputs.empty() && n.outputs[0] == f.node)) f.op = n.op_type;
  return f;
}

std::string load_error_message(const std::string& model, const std::string& text, const OnnxGraph& graph) {
  const OpenCvFailure f = parse_opencv_error(text, graph);
  std::string msg = "cannot load ONNX model " + model + ": ";
  const std::string opset = opset_text(graph);
  if (f.unsupported) {
    msg.append("OpenCV DNN has no layer for op ").append(f.op);
    if (!f.node.empty()) msg.append(" (node '").append(f.node).append("')");
    if (!opset.empty()) msg.append(" of ").append(opset);
    return msg.append("; ").append(kTorchHint).append(
        "; or export the model without it (compute it after cnn.features, or export the part before it), or ").append(
        kExportHints);
  }
  if (!f.node.empty())
    return msg + "OpenCV DNN cannot import " + which_node(f, graph) + ": " + f.reason + "; " + kExportHints + "; " +
           kTorchHint;
  return msg + f.reason;
}

std::string run_error_message(const std::string& model, const std::string& input, const std::string& text,
                              const OnnxGraph& graph) {
  const OpenCvFailure f = parse_opencv_error(text, graph);
  std::string msg = "OpenCV DNN cannot run " + model + " on an input " + input;
  if (!f.node.empty()) msg += " at " + which_node(f, graph);
  msg += ": " + f.reason + " (does the model take this many channels at this size? if it runs elsewhere, e.g. in "
         "onnxruntime, " + kExportHints + "; or " + kTorchHint + ")";
  return msg;
}

}  // namespace featpipe::cnn
