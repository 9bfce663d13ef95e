// Rewrites of an ONNX model, as torch.onnx.export writes it, into a form
// OpenCV DNN 4.6's importer takes, each one keeping the model's meaning.
// Run by the OpenCV backend on the model in memory before OpenCV sees it.
#pragma once

#include <onnx/onnx_pb.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace featpipe::cnn {

struct NormalizeReport {
  int identities = 0;   // Identity nodes folded
  int constants = 0;    // nodes folded into initializers
  int clips = 0;        // Clip nodes given min/max as attributes
  int dropouts = 0;     // inference-time Dropouts reduced to Dropout(x)
  int empty_inputs = 0; // nodes whose trailing absent ("") inputs were dropped
  int einsums = 0;      // batched matrix products written as Einsum made MatMul
  int spread = 0;       // per-sample scalars spread to their partner's shape (LayerNorm at 1x1)
  int expanded = 0;     // constants on trailing axes expanded to their partner's shape
  bool used_input_shape = false;  // the result holds only for that input shape
};

enum class Dialect {
  onnx,    // standard ONNX only (what onnx::checker accepts)
  opencv,  // plus the forms only OpenCV 4.6 reads (Clip-6 attributes at any opset)
};

// `input`: the shape the model will run at ([1, C, H, W]), -1 where not
// known, or empty for the model's declared input.
NormalizeReport normalize_onnx(onnx::ModelProto& model, const std::vector<int64_t>& input,
                               Dialect dialect = Dialect::opencv);

// The single rewrites (used by normalize_onnx, and tested one by one).
int fold_identities(onnx::GraphProto& graph);
int clip_bounds_to_attributes(onnx::GraphProto& graph);
int strip_inference_dropouts(onnx::GraphProto& graph);
int drop_empty_trailing_inputs(onnx::GraphProto& graph);
int einsum_to_matmul(onnx::GraphProto& graph);
int expand_trailing_constants(onnx::GraphProto& graph, const std::map<std::string, std::vector<int64_t>>& shapes);
int spread_scalar_divisors(onnx::GraphProto& graph, const std::map<std::string, std::vector<int64_t>>& shapes);

}  // namespace featpipe::cnn
