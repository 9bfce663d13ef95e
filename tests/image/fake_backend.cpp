// A cnn.features backend made of arithmetic, registered through
// plugins/cnn/backend.hpp and linked with the stage into a fixture plugin
// (no OpenCV): the stage's side of the seam is tested against outputs
// computed by hand.
//
// The model file is text: "input <batch> <channel> <height> <width>" (-1 for
// an open size). Its layers, on an input [1, C, H, W]:
//   sum    ReduceSum          [1, 1, H, W]  the channels summed per pixel
//   rows   ReduceMean         [1, C, H]     each row's mean
//   logits GlobalAveragePool  [1, C]        each channel's mean (the output)
#include "backend.hpp"
#include "stages.hpp"

#include <featpipe/sdk.hpp>

#include <fstream>
#include <string>
#include <vector>

namespace featpipe::cnn {
namespace {

class FakeBackend final : public Backend {
 public:
  FakeBackend(const std::string& path, const std::string& layer) : layer_(layer.empty() ? "logits" : layer) {
    std::ifstream in(path);
    std::string word;
    Shape d(4);
    if (!(in >> word >> d[0] >> d[1] >> d[2] >> d[3]) || word != "input")
      throw sdk::Error("cannot load fake model " + path, "model");
    declared_ = d;
    sdk::check(layer_ == "sum" || layer_ == "rows" || layer_ == "logits", "layer", "no layer '", layer_,
               "' in the fake model");
  }

  Shape input_shape() const override { return declared_; }
  ModelNames names() const override { return {"pixels", layer_, "Fake", "3 fake layers"}; }

  Shape output_shape(const Shape& in) override { return shape_of(layer_, in); }

  std::vector<LayerInfo> layers(const Shape& in) override {
    std::vector<LayerInfo> out;
    for (const char* name : {"sum", "rows", "logits"}) {
      Shape s = shape_of(name, in);
      out.push_back({name, std::string(name) == "sum" ? "ReduceSum" : std::string(name) == "rows" ? "ReduceMean"
                                                                                                    : "GlobalAveragePool",
                     Shape(s.begin() + 1, s.end()), std::string("fake!") + name});
    }
    return out;
  }

  OutputView forward(const float* x, const Shape& in) override {
    const int64_t c = in[1], h = in[2], w = in[3];
    out_.assign(static_cast<size_t>(c * h * w), 0.0f);
    for (int64_t k = 0; k < c; ++k)
      for (int64_t i = 0; i < h; ++i)
        for (int64_t j = 0; j < w; ++j) {
          const float v = x[(k * h + i) * w + j];
          if (layer_ == "sum") out_[i * w + j] += v;
          if (layer_ == "rows") out_[k * h + i] += v / static_cast<float>(w);
          if (layer_ == "logits") out_[k] += v / static_cast<float>(h * w);
        }
    return {out_.data(), output_shape(in)};
  }

 private:
  static Shape shape_of(const std::string& layer, const Shape& in) {
    if (layer == "sum") return {1, 1, in[2], in[3]};
    if (layer == "rows") return {1, in[1], in[2]};
    return {1, in[1]};
  }

  Shape declared_;
  std::string layer_;
  std::vector<float> out_;
};

std::unique_ptr<Backend> open_fake(const std::string& model, const std::string& layer) {
  return std::make_unique<FakeBackend>(model, layer);
}

[[maybe_unused]] const bool registered = register_backend({"fake", ".fake", 0, &open_fake});

}  // namespace
}  // namespace featpipe::cnn

FEATPIPE_PLUGIN("featpipe-cnn-fake", "0.0.1", featpipe::cnn::features_stage())
