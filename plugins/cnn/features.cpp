// cnn.features — runs a model (ONNX through OpenCV DNN, TorchScript through
// libtorch; see backend.hpp) on a [channel, height, width] image and returns the model's output
// or a named intermediate layer's, without the batch axis: [channel, height,
// width] or [feature].
//
//   - use: cnn.features
//     with: {model: ../samples/models/digits_cnn.onnx, input_size: [32, 32],
//            layer: /features/features.10/Relu_output_0}
//
// The model is read once per stage instance (one per worker thread) and
// reused for every input. For ONNX, `layer` is the name of a node output as
// in the model file (what Netron and onnx.load show), or the node's name, or
// OpenCV's own layer name ("onnx_node!..."); for TorchScript, a key of the
// dict the model returns or an index of its tuple; the output shape is known at
// load time (one forward pass on zeros), and `featpipe validate` /
// describe() list every layer with its output shape. Inputs whose size
// differs from input_size are errors (resize/crop first): OpenCV would
// otherwise re-plan the network for each size. Without input_size, each of
// height and width is the previous step's when it fixes it (image.resize,
// image.center_crop), else the model's when its input declares it; only
// when neither does is input_size required.
#include "backend.hpp"
#include "stages.hpp"

#include <featpipe/sdk.hpp>

#include <memory>
#include <sstream>
#include <string>
#include <vector>

namespace featpipe::cnn {
namespace {

using sdk::Error;
using sdk::Param;
using sdk::Spec;

std::string shape_text(const Shape& s, size_t from = 1) {
  std::string t = "[";
  for (size_t k = from; k < s.size(); ++k) t += (k > from ? ", " : "") + std::to_string(s[k]);
  return t + "]";
}

class Features final : public sdk::Stage, public sdk::StageDefaults {
 public:
  static constexpr const char* kName = "cnn.features";
  static constexpr const char* kDoc =
      "Runs a model on [channel, height, width]: ONNX (.onnx) with OpenCV DNN, TorchScript (.pt, .pth, .ts: "
      "torch.jit.save) with libtorch; returns the model's output or the named layer's without the batch "
      "axis. `featpipe validate` lists the layers (outputs) and their shapes.";
  static constexpr const char* kExample =
      "- use: cnn.features\n  with: {model: ../samples/models/digits_cnn.onnx, input_size: [32, 32]}";
  static constexpr fp_param_desc kParams[] = {
      Param::Path("model", nullptr).doc("ONNX or TorchScript model file (relative to the pipeline file)"),
      Param::String("layer", "null").nullable()
          .doc("ONNX: node output (or node) name whose feature map to return; TorchScript: key of the dict "
               "(create_feature_extractor) or index of the tuple the model returns; null: the model's one output"),
      Param::Ints("input_size", "null").nullable().count(2, 2).range(1, 1 << 16).unit("pixels")
          .doc("[height, width] the model is run at; inputs must have this size. null: what the previous step "
               "fixes, else what the model's input declares"),
      Param::Choice("backend", "null", "opencv|torch").nullable()
          .doc("opencv (ONNX) or torch (TorchScript); null: by the model file's extension")};

  explicit Features(const sdk::Params& p)
      : path_(p.s("model")), layer_(p.is_null("layer") ? "" : p.s("layer")) {
    if (!p.is_null("input_size")) {
      auto sz = p.numbers("input_size");
      h_ = static_cast<int64_t>(sz[0]);
      w_ = static_cast<int64_t>(sz[1]);
      size_from_ = "input_size";
    }
    backend_ = open_backend(path_, layer_, p.is_null("backend") ? "" : p.s("backend"));
  }

  Spec configure(const Spec& in, fp_stream_info& info) override {
    info = fp_stream_info{};
    sdk::check(in.rank() == 3, nullptr, "cnn.features needs an image [channel, height, width], got ",
               in.axes_text());
    sdk::check(in.dim(0) > 0, nullptr, "cnn.features needs a known channel count, got ", in.axes_text());
    const Shape declared = backend_->input_shape();
    if (size_from_.empty()) infer_size(in, declared);
    check_size(in.dim(1), in.dim(2));
    // The declared channel count gives a plainer message than a failed pass.
    // Declared sizes are not checked: exported at 224 x 224, a convolutional
    // model still runs (and gives feature maps) at other sizes.
    if (declared.size() == 4 && declared[1] > 0)
      sdk::check(in.dim(0) == declared[1], nullptr, "input has ", in.dim(0), " channels, the model ", path_,
                 " takes ", declared[1]);
    if (in.dim(0) != channels_) {
      // Checks the model runs at this size and gives the output shape.
      out_shape_ = backend_->output_shape(input_shape(in.dim(0)));
      channels_ = in.dim(0);
    }
    sdk::check(out_shape_.size() >= 2 && out_shape_[0] == 1, "layer", "layer '", backend_->names().output,
               "' has shape ", shape_text(out_shape_, 0), ", expected a batch axis of 1 first");
    Spec out;
    const size_t r = out_shape_.size() - 1;
    static const char* const k3[] = {"channel", "height", "width"};
    static const char* const k2[] = {"channel", "position"};
    for (size_t k = 0; k < r; ++k) {
      std::string name = r == 3 ? k3[k] : r == 2 ? k2[k] : r == 1 ? "feature" : sdk::cat("d", k);
      out.append(name, out_shape_[k + 1]);
    }
    return out;
  }

  void push(fp_tensor& in, fp_tensor& out) override {
    sdk::check(in.rank == 3, nullptr, "cnn.features needs [channel, height, width]");
    sdk::check(in.shape[0] == channels_, nullptr, "input has ", in.shape[0], " channels, the stage was configured for ",
               channels_);
    check_size(in.shape[1], in.shape[2]);
    OutputView v = backend_->forward(in.data, input_shape(channels_));
    sdk::check(v.shape == out_shape_, nullptr, "layer output changed shape: ", shape_text(v.shape, 0), ", was ",
               shape_text(out_shape_, 0));
    out = fp_tensor{};
    out.data = const_cast<float*>(v.data);  // the backend's buffer, valid until the next push
    out.rank = static_cast<int32_t>(v.shape.size() - 1);
    for (size_t k = 1; k < v.shape.size(); ++k) out.shape[k - 1] = v.shape[k];
  }

  std::string describe() override {
    const ModelNames n = backend_->names();
    std::ostringstream os;
    os << "model " << path_ << ": input " << n.input << " [" << channels_ << ", " << h_ << ", " << w_ << "], "
       << n.summary << (size_from_ == "input_size" ? "" : "; input_size " + size_from_) << "\n";
    os << "returns '" << (layer_.empty() ? n.output : layer_) << "' (" << n.backend << " layer " << n.output << ") "
       << shape_text(out_shape_) << "\n";
    os << "layers (name for `layer:`, op, output shape without batch):\n";
    if (channels_ > 0) {
      std::vector<LayerInfo> layers;
      try {
        layers = backend_->layers(input_shape(channels_));
      } catch (const std::exception& e) {
        os << "  (not listed: " << e.what() << ")\n";  // a description only: runs are unaffected
      }
      for (const auto& l : layers) {
        os << "  " << l.name << "  " << l.op << "  " << (l.shape_known ? shape_text(l.shape, 0) : "(size known when run)");
        if (!l.alias.empty()) os << "  (" << l.alias << ")";
        os << "\n";
      }
    }
    return os.str();
  }

 private:
  Shape input_shape(int64_t channels) const { return {1, channels, h_, w_}; }

  // input_size left out: per axis, the previous step's size, else the
  // model's declared one. At load only (configure sees the load-time spec),
  // so every input of a run is held to the same size.
  void infer_size(const Spec& in, const Shape& declared) {
    auto model_dim = [&](size_t k) { return declared.size() == 4 && declared[k] > 0 ? declared[k] : int64_t{-1}; };
    const int64_t h = in.dim(1) >= 0 ? in.dim(1) : model_dim(2);
    const int64_t w = in.dim(2) >= 0 ? in.dim(2) : model_dim(3);
    if (h <= 0 || w <= 0) {
      std::string model = "[";
      for (size_t k = 0; k < declared.size(); ++k)
        model += (k ? ", " : "") + (declared[k] > 0 ? std::to_string(declared[k]) : std::string("?"));
      throw Error(sdk::cat("input_size is needed: the previous step gives ", in.axes_text(), " and the model ", path_,
                           "'s input is ", declared.empty() ? std::string("undeclared") : model + "]",
                           ", so neither fixes the ", h <= 0 && w <= 0 ? "height and width" : h <= 0 ? "height" : "width",
                           "; set input_size: [height, width] and resize/crop to it first (image.resize, "
                           "image.center_crop)"),
                  "input_size");
    }
    h_ = h;
    w_ = w;
    const bool from_prev = in.dim(1) >= 0 && in.dim(2) >= 0, from_model = in.dim(1) < 0 && in.dim(2) < 0;
    size_from_ = from_prev    ? "from the previous step"
                 : from_model ? "from the model's input"
                              : "from the previous step and the model";
  }

  void check_size(int64_t h, int64_t w) const {
    if ((h >= 0 && h != h_) || (w >= 0 && w != w_))
      throw Error(sdk::cat("input image is ", h < 0 ? "?" : std::to_string(h), "x", w < 0 ? "?" : std::to_string(w),
                           " (height x width) but the model runs at input_size [", h_, ", ", w_,
                           "]: resize/crop to that size first"),
                  "input_size");
  }

  std::string path_, layer_;
  int64_t h_ = -1, w_ = -1, channels_ = 0;
  std::string size_from_;  // where h_, w_ came from; empty until known
  std::unique_ptr<Backend> backend_;
  Shape out_shape_;
};

}  // namespace

fp_stage_desc features_stage() { return sdk::stage<Features>(); }

}  // namespace featpipe::cnn
