#include "onnx_graph.hpp"

#include "onnx_model.hpp"

#include <google/protobuf/io/coded_stream.h>

#include <climits>
#include <fstream>
#include <set>
#include <stdexcept>

namespace featpipe::cnn {

onnx::ModelProto load_onnx_model(const std::string& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) throw std::runtime_error("cannot open " + path);
  std::string bytes(static_cast<size_t>(in.tellg()), '\0');
  in.seekg(0);
  if (!in.read(bytes.data(), static_cast<std::streamsize>(bytes.size())))
    throw std::runtime_error("cannot read " + path);
  if (bytes.size() > static_cast<size_t>(INT_MAX))
    throw std::runtime_error(path + " is over 2 GB, protobuf's limit for one message");
  // Older protobufs stop at 64 MB by default; a model is one message.
  google::protobuf::io::CodedInputStream stream(reinterpret_cast<const uint8_t*>(bytes.data()),
                                                static_cast<int>(bytes.size()));
  stream.SetTotalBytesLimit(INT_MAX);
  onnx::ModelProto model;
  if (!model.ParseFromCodedStream(&stream) || !stream.ConsumedEntireMessage())
    throw std::runtime_error("not an ONNX model (protobuf parse failed): " + path);
  if (!model.has_graph()) throw std::runtime_error("not an ONNX model (no graph): " + path);
  return model;
}

std::string serialize_onnx_model(const onnx::ModelProto& model) {
  std::string bytes;
  if (!model.SerializeToString(&bytes)) throw std::runtime_error("the normalized ONNX model is over 2 GB");
  return bytes;
}

OnnxGraph describe_graph(const onnx::ModelProto& model) {
  const onnx::GraphProto& graph = model.graph();
  OnnxGraph g;
  for (const auto& op : model.opset_import())
    if (op.domain().empty() || op.domain() == "ai.onnx") g.opset = op.version();
  for (const auto& n : graph.node())
    g.nodes.push_back({n.name(), n.op_type(), {n.input().begin(), n.input().end()}, {n.output().begin(), n.output().end()}});
  std::set<std::string> initializers;
  for (const auto& t : graph.initializer()) initializers.insert(t.name());
  for (const auto& in : graph.input()) {
    if (initializers.count(in.name())) continue;
    g.inputs.push_back(in.name());
    std::vector<int64_t> dims;
    if (in.type().has_tensor_type() && in.type().tensor_type().has_shape())
      for (const auto& d : in.type().tensor_type().shape().dim()) dims.push_back(d.has_dim_value() ? d.dim_value() : -1);
    g.input_dims.push_back(std::move(dims));
  }
  for (const auto& out : graph.output()) g.outputs.push_back(out.name());
  return g;
}

OnnxGraph read_onnx_graph(const std::string& path) { return describe_graph(load_onnx_model(path)); }

}  // namespace featpipe::cnn
