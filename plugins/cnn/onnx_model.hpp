// Loading and saving an ONNX ModelProto in memory (models of a few hundred
// MB, such as vit_b_16, included).
#pragma once

#include <onnx/onnx_pb.h>

#include <string>

namespace featpipe::cnn {

// Throws std::runtime_error when the file cannot be read or is not a model.
onnx::ModelProto load_onnx_model(const std::string& path);
// Throws std::runtime_error when the model is over protobuf's 2 GB limit.
std::string serialize_onnx_model(const onnx::ModelProto& model);

}  // namespace featpipe::cnn
