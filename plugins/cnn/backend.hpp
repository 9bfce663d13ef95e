// The seam between cnn.features and the library that runs the model. The
// stage owns parameters, specs and checks; a backend owns the model: names,
// shapes, and the forward pass on one image (batch of 1, NCHW float32).
// A backend is one file that registers itself:
//
//   const bool registered = register_backend({"mybackend", ".pt", 0, &open_mine});
//
// and is listed in the plugin's sources; features.cpp does not change.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace featpipe::cnn {

using Shape = std::vector<int64_t>;

// One layer `layer:` can name, for `featpipe validate`.
struct LayerInfo {
  std::string name;   // the name `layer:` takes (ONNX node output)
  std::string op;     // operator type
  Shape shape;        // output shape without the batch axis
  std::string alias;  // the backend's own name for it when different, else empty
  bool shape_known = true;  // false: the backend cannot size it without running it
};

// How describe() names the model and the chosen output.
struct ModelNames {
  std::string input;    // the model's input
  std::string output;   // the chosen output as the backend names it
  std::string backend;  // "OpenCV", "libtorch 1.13"
  std::string summary;  // "17 ONNX nodes"
};

// The output of one forward pass, batch axis included; valid until the next
// call on the backend.
struct OutputView {
  const float* data = nullptr;
  Shape shape;
};

// One loaded model with one chosen output, used by one thread.
// Errors are sdk::Error (naming the parameter at fault, "layer" or "model").
class Backend {
 public:
  virtual ~Backend() = default;
  // The input the model declares, [batch, channel, height, width], with -1
  // where it leaves a size open; empty when the model does not say.
  virtual Shape input_shape() const = 0;
  virtual ModelNames names() const = 0;
  // The chosen output's shape (batch axis first) for an input of `input`
  // ([1, channel, height, width]); may run the model once.
  virtual Shape output_shape(const Shape& input) = 0;
  // Every layer with its output shape at `input`, in model order.
  virtual std::vector<LayerInfo> layers(const Shape& input) = 0;
  // Runs the model on `data` (dense, shape `input`) up to the chosen output.
  virtual OutputView forward(const float* data, const Shape& input) = 0;
};

// Opens `model` and chooses its output `layer` ("" for the model's output).
using OpenBackend = std::unique_ptr<Backend> (*)(const std::string& model, const std::string& layer);

struct BackendEntry {
  const char* name;        // "opencv"
  const char* extensions;  // model files it opens, space-separated: ".onnx"
  int priority;            // the highest wins when several open a file
  OpenBackend open;
};

// Called from a static initializer in the backend's file; returns true.
bool register_backend(const BackendEntry& entry);
// The backend for a model file: the one named `backend`, else by extension.
// Throws sdk::Error("model") when none opens it, sdk::Error("backend") when
// `backend` is unknown or the file's extension belongs to another backend.
std::unique_ptr<Backend> open_backend(const std::string& model, const std::string& layer,
                                      const std::string& backend = "");

}  // namespace featpipe::cnn
