// Constant folding for OpenCV DNN 4.6: with the model's input fixed to the
// shape the stage runs at, the Shape/Gather/Concat/... chains an exporter
// leaves in front of Reshape and Expand become initializers, so those get
// the constant shapes OpenCV's importer requires.
#pragma once

#include <onnx/onnx_pb.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace featpipe::cnn {

struct FoldResult {
  int folded = 0;                 // nodes replaced by initializers
  bool used_input_shape = false;  // a folded value came from the input's shape
};

// Tensor name -> shape, for the tensors whose whole shape is known.
using ShapeMap = std::map<std::string, std::vector<int64_t>>;

// Shape inference with the first graph input's shape set to `input` (-1
// where not known, empty for the declared one) and its batch to 1; the model
// is left as it was.
ShapeMap infer_shapes(onnx::ModelProto& model, const std::vector<int64_t>& input);

// Replaces nodes whose outputs are constant (given `shapes`, for Shape) by
// initializers.
FoldResult fold_constants(onnx::ModelProto& model, const ShapeMap& shapes);

// Keeps the elements of `list` for which `keep` (called once each, in
// order) is true, in order.
template <typename T, typename Keep>
void keep_if(google::protobuf::RepeatedPtrField<T>* list, Keep keep) {
  int w = 0;
  for (int r = 0; r < list->size(); ++r)
    if (keep(list->Get(r))) list->SwapElements(w++, r);
  list->DeleteSubrange(w, list->size() - w);
}

// Drops nodes of the folded kinds (Constant, Shape, ...) and initializers
// nothing reads any more.
void drop_unused(onnx::GraphProto& graph);

}  // namespace featpipe::cnn
