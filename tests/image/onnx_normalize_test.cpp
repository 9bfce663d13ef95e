// onnx_normalize (plugins/cnn/onnx_normalize.*) on models torch.onnx.export
// writes with its defaults (make_normalize_models.py): each fails in OpenCV
// DNN 4.6 as exported; normalized, it imports, its standard-ONNX form passes
// onnx::checker, and it matches PyTorch in float64 within 1e-3 * max|ref|,
// directly and through the OpenCV backend.
#include "backend.hpp"
#include "image_support.hpp"
#include "onnx_model.hpp"
#include "onnx_normalize.hpp"

#include <onnx/checker.h>
#include <opencv2/core/utils/logger.hpp>
#include <opencv2/dnn.hpp>

#include <gtest/gtest.h>

#include <cmath>
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <chrono>
#include <functional>
#include <optional>
#include <sstream>

namespace featpipe::test {
namespace {

using cnn::Dialect;
using cnn::normalize_onnx;

// The folder holding make_normalize_models.py's models, or nullptr without
// torch. ctest runs each test in its own process and importing torch takes
// seconds, so the models are made once per build tree (and version of the
// script), under a lock, in tests/onnx_normalize_models-<hash>.
const fs::path* models_dir() {
  static const std::optional<fs::path> dir = []() -> std::optional<fs::path> {
    const fs::path script = source_dir() / "tests/image/make_normalize_models.py";
    std::ostringstream key;
    key << std::hex << std::hash<std::string>{}(read_text(script));
    const fs::path parent = binary_dir() / "tests";
    const fs::path out = parent / ("onnx_normalize_models-" + key.str());
    if (fs::exists(out / "done")) return out;
    if (!python_has("numpy torch torchvision onnx")) return std::nullopt;
    fs::create_directories(parent);
    const int lock = ::open((out.string() + ".lock").c_str(), O_CREAT | O_RDWR, 0644);
    if (lock >= 0) ::flock(lock, LOCK_EX);
    if (!fs::exists(out / "done")) {
      fs::remove_all(out);
      fs::create_directories(out);
      auto r = run_shell(quote(python()) + " " + quote(script.string()) + " " + quote(out.string()));
      EXPECT_EQ(r.exit_code, 0) << r.err;
      if (r.exit_code == 0) write_text(out / "done", "");
    }
    if (lock >= 0) ::close(lock);
    if (!fs::exists(out / "done")) return std::nullopt;
    return out;
  }();
  return dir ? &*dir : nullptr;
}

#define NEED_MODELS()                                                                      \
  if (!models_dir()) GTEST_SKIP() << "python3 cannot import torch, torchvision and onnx"; \
  const fs::path& dir = *models_dir()

onnx::ModelProto model(const fs::path& dir, const std::string& name) {
  return cnn::load_onnx_model((dir / (name + ".onnx")).string());
}

int count_ops(const onnx::ModelProto& m, const std::string& op) {
  int n = 0;
  for (const auto& node : m.graph().node()) n += node.op_type() == op;
  return n;
}

// OpenCV's output for `x`, or its error text.
struct CvRun {
  std::vector<float> out;
  std::string error;
};

CvRun run_opencv(const onnx::ModelProto& m, const npy::Array& x) {
  const std::string bytes = cnn::serialize_onnx_model(m);
  const auto level = cv::utils::logging::setLogLevel(cv::utils::logging::LOG_LEVEL_SILENT);
  CvRun r;
  try {
    cv::dnn::Net net = cv::dnn::readNetFromONNX(bytes.data(), bytes.size());
    std::vector<int> dims(x.shape.begin(), x.shape.end());
    net.setInput(cv::Mat(dims, CV_32F, const_cast<float*>(x.data.data())));
    cv::Mat out = net.forward();
    r.out.assign(out.ptr<float>(), out.ptr<float>() + out.total());
  } catch (const cv::Exception& e) {
    r.error = e.what();
  }
  cv::utils::logging::setLogLevel(level);
  return r;
}

// max |out - ref| / max |ref|, or NaN when the sizes differ.
double relative_error(const std::vector<float>& out, const std::vector<float>& ref) {
  if (out.size() != ref.size() || ref.empty()) return NAN;
  double err = 0, peak = 0;
  for (size_t k = 0; k < ref.size(); ++k) {
    err = std::max(err, std::abs(double(out[k]) - ref[k]));
    peak = std::max(peak, std::abs(double(ref[k])));
  }
  return err / peak;
}

// As exported OpenCV fails; normalized it matches PyTorch. Returns the
// normalized model (OpenCV's form).
onnx::ModelProto check_model(const fs::path& dir, const std::string& name) {
  const npy::Array x = npy::read((dir / (name + "_x.npy")).string());
  const npy::Array ref = npy::read((dir / (name + "_ref.npy")).string());
  onnx::ModelProto m = model(dir, name);
  EXPECT_NE(run_opencv(m, x).error, "") << name << " runs in OpenCV without normalization";

  onnx::ModelProto standard = m;
  normalize_onnx(standard, x.shape, Dialect::onnx);
  EXPECT_NO_THROW(onnx::checker::check_model(standard)) << name;

  normalize_onnx(m, x.shape);
  const CvRun r = run_opencv(m, x);
  EXPECT_EQ(r.error, "") << name;
  EXPECT_LE(relative_error(r.out, ref.data), 1e-3) << name;

  // The backend normalizes the same way.
  auto backend = cnn::open_backend((dir / (name + ".onnx")).string(), "");
  EXPECT_EQ(backend->output_shape(x.shape), ref.shape) << name;
  const cnn::OutputView v = backend->forward(x.data.data(), x.shape);
  EXPECT_LE(relative_error(std::vector<float>(v.data, v.data + ref.data.size()), ref.data), 1e-3) << name;
  return m;
}

TEST(OnnxNormalize, ClipWithBoundsAsInputsTakesThemAsAttributes) {
  NEED_MODELS();
  const onnx::ModelProto before = model(dir, "relu6");
  for (const auto& n : before.graph().node())
    if (n.op_type() == "Clip") EXPECT_EQ(n.input_size(), 3);  // Clip(x, min, max)
  const onnx::ModelProto m = check_model(dir, "relu6");
  ASSERT_EQ(count_ops(m, "Clip"), 1);
  for (const auto& n : m.graph().node())
    if (n.op_type() == "Clip") {
      EXPECT_EQ(n.input_size(), 1);
      ASSERT_EQ(n.attribute_size(), 2);
      EXPECT_EQ(n.attribute(0).name(), "min");
      EXPECT_EQ(n.attribute(0).f(), 0.0f);
      EXPECT_EQ(n.attribute(1).name(), "max");
      EXPECT_EQ(n.attribute(1).f(), 6.0f);
    }
}

TEST(OnnxNormalize, TheClassTokensExpandGetsAConstantShape) {
  NEED_MODELS();
  const onnx::ModelProto before = model(dir, "class_token");
  EXPECT_GT(count_ops(before, "Shape"), 0);
  EXPECT_EQ(count_ops(before, "Expand"), 1);
  const onnx::ModelProto m = check_model(dir, "class_token");
  EXPECT_EQ(count_ops(m, "Shape"), 0);
  EXPECT_EQ(count_ops(m, "Expand"), 0);  // of a constant: folded
}

TEST(OnnxNormalize, LayerNormOnTheLastAxisAt1x1) {
  NEED_MODELS();
  const onnx::ModelProto m = check_model(dir, "layer_norm_1x1");
  EXPECT_EQ(count_ops(m, "MatMul"), 1);  // the standard deviation spread over C
}

TEST(OnnxNormalize, TheBackendNormalizesAgainAtTheSizeItRunsAt) {
  // Exported at 8x8; its Linear's bias is expanded to [1, H, W, C] for
  // OpenCV, which holds at one size only.
  NEED_MODELS();
  const npy::Array x = npy::read((dir / "layer_norm_hwc_x.npy").string());
  const npy::Array ref = npy::read((dir / "layer_norm_hwc_ref.npy").string());
  ASSERT_EQ(x.shape, (std::vector<int64_t>{1, 3, 12, 12}));
  onnx::ModelProto m = model(dir, "layer_norm_hwc");
  EXPECT_TRUE(normalize_onnx(m, x.shape).used_input_shape);
  auto backend = cnn::open_backend((dir / "layer_norm_hwc.onnx").string(), "");
  EXPECT_EQ(backend->output_shape({1, 3, 8, 8}), ref.shape);
  EXPECT_EQ(backend->output_shape(x.shape), ref.shape);
  const cnn::OutputView v = backend->forward(x.data.data(), x.shape);
  EXPECT_LE(relative_error(std::vector<float>(v.data, v.data + ref.data.size()), ref.data), 1e-3);
}

// The backend does not keep the model as exported (the net holds its own
// weights): a reload at another size reads the file again, and refuses one
// that changed since, rather than mix two models in one run.
TEST(OnnxNormalize, AReloadRefusesAModelFileThatChanged) {
  NEED_MODELS();
  test::TempDir tmp;
  const fs::path copy = tmp / "model.onnx";
  fs::copy_file(dir / "layer_norm_hwc.onnx", copy);
  auto backend = cnn::open_backend(copy.string(), "");
  EXPECT_FALSE(backend->output_shape({1, 3, 8, 8}).empty());
  fs::last_write_time(copy, fs::last_write_time(copy) + std::chrono::seconds(10));
  try {
    backend->output_shape({1, 3, 12, 12});
    ADD_FAILURE() << "a changed model file was read again";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("changed on disk since it was loaded"), std::string::npos) << e.what();
  }
}

// OpenCV 4.6 cannot size a ViT's layers without running them
// (getLayersShapes throws, logging [ERROR] lines): `validate` still lists
// the names `layer:` takes, says their sizes are known when run, and
// nothing is printed to stderr.
TEST(OnnxNormalize, LayersOpenCvCannotSizeAreListedQuietly) {
  NEED_MODELS();
  const npy::Array x = npy::read((dir / "class_token_x.npy").string());
  auto backend = cnn::open_backend((dir / "class_token.onnx").string(), "");
  testing::internal::CaptureStderr();
  const std::vector<cnn::LayerInfo> layers = backend->layers(x.shape);
  const std::string err = testing::internal::GetCapturedStderr();
  EXPECT_EQ(err, "");
  ASSERT_FALSE(layers.empty());
  EXPECT_EQ(layers.front().name, "/patch/Conv_output_0");
  for (const auto& l : layers) EXPECT_FALSE(l.shape_known) << l.name;
}

TEST(OnnxNormalize, UntrainedMobileNetV2sIdentitiesAreFolded) {
  NEED_MODELS();
  EXPECT_GT(count_ops(model(dir, "mobilenet_v2"), "Identity"), 0);
  const onnx::ModelProto m = check_model(dir, "mobilenet_v2");
  EXPECT_EQ(count_ops(m, "Identity"), 0);
}

TEST(OnnxNormalize, MobileNetV2WithDistinctParameters) {
  NEED_MODELS();
  EXPECT_EQ(count_ops(model(dir, "mobilenet_v2_perturbed"), "Identity"), 0);
  check_model(dir, "mobilenet_v2_perturbed");
}

TEST(OnnxNormalize, OnlyIdentitiesOfConstantsAreFolded) {
  // Identity(w) -> Conv reads w; Identity(relu) stays (OpenCV runs it and
  // `layer:` may name its output).
  onnx::GraphProto g;
  g.add_initializer()->set_name("w");
  auto add = [&g](const char* op, std::vector<std::string> in, const char* out) {
    auto* n = g.add_node();
    n->set_op_type(op);
    for (auto& i : in) n->add_input(i);
    n->add_output(out);
  };
  add("Identity", {"w"}, "w_copy");
  add("Conv", {"image", "w_copy"}, "c");
  add("Relu", {"c"}, "r");
  add("Identity", {"r"}, "features");
  g.add_output()->set_name("features");
  EXPECT_EQ(cnn::fold_identities(g), 1);
  ASSERT_EQ(g.node_size(), 3);
  EXPECT_EQ(g.node(0).op_type(), "Conv");
  EXPECT_EQ(g.node(0).input(1), "w");
  EXPECT_EQ(g.node(2).op_type(), "Identity");
  EXPECT_EQ(g.node(2).output(0), "features");
}

}  // namespace
}  // namespace featpipe::test
