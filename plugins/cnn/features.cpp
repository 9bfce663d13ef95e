// cnn.features — runs an ONNX model with OpenCV DNN on a [channel, height,
// width] image and returns the model's output or a named intermediate
// layer's, without the batch axis: [channel, height, width] or [feature].
//
//   - use: cnn.features
//     with: {model: ../samples/models/digits_cnn.onnx, input_size: [32, 32],
//            layer: /features/features.10/Relu_output_0}
//
// The model is read once per stage instance (one per worker thread) and
// reused for every input. `layer` is the name of an ONNX node output as in
// the model file (what Netron and onnx.load show), or the node's name, or
// OpenCV's own layer name ("onnx_node!..."); the output shape is known at
// load time (one forward pass on zeros), and `featpipe validate` /
// describe() list every layer with its output shape. Inputs whose size
// differs from input_size are errors (resize/crop first): OpenCV would
// otherwise re-plan the network for each size.
#include "onnx_graph.hpp"
#include "stages.hpp"

#include <featpipe/sdk.hpp>

#include <opencv2/core.hpp>
#include <opencv2/dnn.hpp>

#include <algorithm>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace featpipe::cnn {
namespace {

using sdk::Error;
using sdk::Param;
using sdk::Spec;

std::string shape_text(const std::vector<int>& s, size_t from = 1) {
  std::string t = "[";
  for (size_t k = from; k < s.size(); ++k) t += (k > from ? ", " : "") + std::to_string(s[k]);
  return t + "]";
}

class Features final : public sdk::Stage, public sdk::StageDefaults {
 public:
  static constexpr const char* kName = "cnn.features";
  static constexpr const char* kDoc =
      "Runs an ONNX model with OpenCV DNN on [channel, height, width]; returns the model's output or "
      "the named layer's (ONNX node output name, or OpenCV's onnx_node!... name) without the batch "
      "axis. `featpipe validate` lists the layers and their shapes.";
  static constexpr const char* kExample =
      "- use: cnn.features\n  with: {model: ../samples/models/digits_cnn.onnx, input_size: [32, 32]}";
  static constexpr fp_param_desc kParams[] = {
      Param::Path("model", nullptr).doc("ONNX model file (relative to the pipeline file)"),
      Param::String("layer", "null").nullable()
          .doc("ONNX node output (or node) name whose feature map to return; null: the model's output"),
      Param::Ints("input_size", nullptr).count(2, 2).range(1, 1 << 16).unit("pixels")
          .doc("[height, width] the model is run at; inputs must have this size")};

  explicit Features(const sdk::Params& p)
      : path_(p.s("model")), layer_(p.is_null("layer") ? "" : p.s("layer")) {
    auto sz = p.numbers("input_size");
    h_ = static_cast<int>(sz[0]);
    w_ = static_cast<int>(sz[1]);
    try {
      graph_ = read_onnx_graph(path_);
      net_ = cv::dnn::readNetFromONNX(path_);
    } catch (const cv::Exception& e) {
      throw Error(sdk::cat("cannot load ONNX model ", path_, ": ", e.err), "model");
    } catch (const std::exception& e) {
      throw Error(sdk::cat("cannot load ONNX model ", path_, ": ", e.what()), "model");
    }
    net_.setPreferableBackend(cv::dnn::DNN_BACKEND_OPENCV);
    net_.setPreferableTarget(cv::dnn::DNN_TARGET_CPU);
    map_names();
    cv_layer_ = resolve_layer();
  }

  Spec configure(const Spec& in, fp_stream_info& info) override {
    info = fp_stream_info{};
    sdk::check(in.rank() == 3, nullptr, "cnn.features needs an image [channel, height, width], got ",
               in.axes_text());
    sdk::check(in.dim(0) > 0, nullptr, "cnn.features needs a known channel count, got ", in.axes_text());
    check_size(in.dim(1), in.dim(2));
    const int c = static_cast<int>(in.dim(0));
    if (c != channels_) {
      // One pass on zeros: checks the model runs at this size and gives the
      // output shape (and every layer's, for describe()).
      cv::Mat zeros(std::vector<int>{1, c, h_, w_}, CV_32F, cv::Scalar(0));
      cv::Mat out = forward(zeros);
      out_shape_.assign(out.size.p, out.size.p + out.dims);
      layer_shapes_.clear();
      channels_ = c;
    }
    sdk::check(out_shape_.size() >= 2 && out_shape_[0] == 1, "layer", "layer '", cv_layer_,
               "' has shape ", shape_text(out_shape_, 0), ", expected a batch axis of 1 first");
    Spec out;
    const size_t r = out_shape_.size() - 1;
    static const char* const k3[] = {"channel", "height", "width"};
    static const char* const k2[] = {"channel", "position"};
    for (size_t k = 0; k < r; ++k) {
      std::string name = r == 3 ? k3[k] : r == 2 ? k2[k] : r == 1 ? "feature" : "d" + std::to_string(k);
      out.append(name, out_shape_[k + 1]);
    }
    return out;
  }

  void push(fp_tensor& in, fp_tensor& out) override {
    sdk::check(in.rank == 3, nullptr, "cnn.features needs [channel, height, width]");
    sdk::check(in.shape[0] == channels_, nullptr, "input has ", in.shape[0], " channels, the stage was configured for ",
               channels_);
    check_size(in.shape[1], in.shape[2]);
    cv::Mat blob(std::vector<int>{1, channels_, h_, w_}, CV_32F, in.data);  // no copy
    out_ = forward(blob);
    if (!out_.isContinuous()) out_ = out_.clone();
    sdk::check(out_.dims == static_cast<int>(out_shape_.size()), nullptr, "layer output changed shape");
    out = fp_tensor{};
    out.data = out_.ptr<float>();
    out.rank = out_.dims - 1;
    for (int k = 1; k < out_.dims; ++k) out.shape[k - 1] = out_.size[k];
  }

  std::string describe() override {
    std::ostringstream os;
    os << "model " << path_ << ": input " << (graph_.inputs.empty() ? "?" : graph_.inputs[0]) << " [" << channels_
       << ", " << h_ << ", " << w_ << "], " << graph_.nodes.size() << " ONNX nodes\n";
    os << "returns '" << (layer_.empty() ? cv_layer_ : layer_) << "' (OpenCV layer " << cv_layer_ << ") "
       << shape_text(out_shape_) << "\n";
    if (channels_ > 0 && layer_shapes_.empty()) compute_layer_shapes();
    os << "layers (name for `layer:`, op, output shape without batch):\n";
    std::set<std::string> shown;
    for (auto& [id, shape] : layer_shapes_) {
      auto l = net_.getLayer(id);
      auto it = onnx_name_.find(l->name);
      if (!shown.insert(it != onnx_name_.end() ? it->second : l->name).second) continue;
      os << "  " << (it != onnx_name_.end() ? it->second : l->name) << "  " << l->type << "  " << shape_text(shape);
      if (it != onnx_name_.end() && it->second != l->name) os << "  (" << l->name << ")";
      os << "\n";
    }
    return os.str();
  }

 private:
  void check_size(int64_t h, int64_t w) const {
    if ((h >= 0 && h != h_) || (w >= 0 && w != w_))
      throw Error(sdk::cat("input image is ", h < 0 ? "?" : std::to_string(h), "x", w < 0 ? "?" : std::to_string(w),
                           " (height x width) but the model runs at input_size [", h_, ", ", w_,
                           "]: resize/crop to that size first"),
                  "input_size");
  }

  cv::Mat forward(const cv::Mat& blob) {
    try {
      net_.setInput(blob);
      return net_.forward(cv_layer_);
    } catch (const cv::Exception& e) {
      throw Error(sdk::cat("OpenCV DNN cannot run ", path_, " on an input [", blob.size[1], ", ", h_, ", ", w_,
                           "] (does the model take ", blob.size[1], " channels at this size?): ", e.err));
    }
  }

  // OpenCV names a layer "onnx_node!<node name>" (or "!<first output>"
  // when the node has no name) and keeps graph outputs under their own
  // names; map those back to ONNX output names.
  void map_names() {
    for (const auto& n : graph_.nodes) {
      if (n.outputs.empty()) continue;
      const std::string& out0 = n.outputs[0];
      for (const std::string& cv_name : {"onnx_node!" + n.name, "onnx_node!" + out0, out0, n.name}) {
        if (cv_name.empty() || cv_name == "onnx_node!" || net_.getLayerId(cv_name) < 0) continue;
        by_output_.emplace(out0, cv_name);
        if (!n.name.empty()) by_output_.emplace(n.name, cv_name);
        onnx_name_.emplace(cv_name, out0);
        break;
      }
    }
  }

  std::string resolve_layer() {
    if (layer_.empty()) {
      auto outs = net_.getUnconnectedOutLayersNames();
      sdk::check(outs.size() == 1, "layer", "the model has ", outs.size(), " outputs: choose one with `layer`");
      return outs[0];
    }
    if (net_.getLayerId(layer_) >= 0) return layer_;
    auto it = by_output_.find(layer_);
    if (it != by_output_.end()) return it->second;
    // Produced by a node OpenCV folded away (Constant, Shape, ...) or not in
    // the model at all.
    std::string names;
    int shown = 0;
    for (const auto& n : graph_.nodes)
      if (!n.outputs.empty() && by_output_.count(n.outputs[0]) && shown++ < 12) names += "\n  " + n.outputs[0];
    for (const auto& n : graph_.nodes)
      if (std::find(n.outputs.begin(), n.outputs.end(), layer_) != n.outputs.end())
        throw Error(sdk::cat("layer '", layer_, "' (output of ", n.op_type, " node '", n.name,
                             "') is not a layer OpenCV DNN keeps (folded or fused at import); layers:", names,
                             shown > 12 ? "\n  ... (featpipe validate lists all)" : ""),
                    "layer");
    throw Error(sdk::cat("no layer '", layer_, "' in ", path_, "; layers:", names,
                         shown > 12 ? "\n  ... (featpipe validate lists all)" : ""),
                "layer");
  }

  void compute_layer_shapes() {
    std::vector<int> ids;
    std::vector<std::vector<cv::dnn::MatShape>> ins, outs;
    try {
      net_.getLayersShapes(cv::dnn::MatShape{1, channels_, h_, w_}, ids, ins, outs);
    } catch (const cv::Exception&) {
      return;
    }
    for (size_t k = 0; k < ids.size(); ++k)
      if (ids[k] > 0 && !outs[k].empty()) layer_shapes_.emplace_back(ids[k], outs[k][0]);
  }

  std::string path_, layer_, cv_layer_;
  int h_, w_, channels_ = 0;
  OnnxGraph graph_;
  cv::dnn::Net net_;
  std::map<std::string, std::string> by_output_;  // ONNX output/node name -> OpenCV layer
  std::map<std::string, std::string> onnx_name_;  // OpenCV layer -> ONNX output name
  std::vector<int> out_shape_;
  std::vector<std::pair<int, std::vector<int>>> layer_shapes_;
  cv::Mat out_;
};

}  // namespace

fp_stage_desc features_stage() { return sdk::stage<Features>(); }

}  // namespace featpipe::cnn
