// onnx_normalize (plugins/cnn/onnx_normalize.*) on models torch.onnx.export
// writes with its defaults (make_normalize_models.py): each fails in OpenCV
// DNN 4.6 as exported; normalized, it imports, its standard-ONNX form passes
// onnx::checker, and it matches PyTorch in float64 within 1e-3 * max|ref|,
// directly and through the OpenCV backend.
#include "backend.hpp"
#include "image_support.hpp"
#include "onnx_eval.hpp"
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

TEST(OnnxNormalize, DropoutWithRatioZeroKeepsItsDataInputOnly) {
  NEED_MODELS();
  const onnx::ModelProto before = model(dir, "dropout_p0");
  ASSERT_EQ(count_ops(before, "Dropout"), 1);
  for (const auto& n : before.graph().node())
    if (n.op_type() == "Dropout") EXPECT_EQ(n.input_size(), 3);  // Dropout(x, ratio, training_mode)
  const onnx::ModelProto m = check_model(dir, "dropout_p0");
  ASSERT_EQ(count_ops(m, "Dropout"), 1);  // kept: its output stays a layer
  for (const auto& n : m.graph().node())
    if (n.op_type() == "Dropout") EXPECT_EQ(n.input_size(), 1);
  for (const auto& t : m.graph().initializer()) EXPECT_NE(t.data_type(), onnx::TensorProto::BOOL) << t.name();
}

TEST(OnnxNormalize, PadsAbsentValueInputIsDropped) {
  NEED_MODELS();
  const onnx::ModelProto before = model(dir, "pad_default_value");
  for (const auto& n : before.graph().node())
    if (n.op_type() == "Pad") {
      ASSERT_EQ(n.input_size(), 3);
      EXPECT_EQ(n.input(2), "");
    }
  const onnx::ModelProto m = check_model(dir, "pad_default_value");
  ASSERT_EQ(count_ops(m, "Pad"), 1);
  for (const auto& n : m.graph().node())
    if (n.op_type() == "Pad") EXPECT_EQ(n.input_size(), 2);
}

TEST(OnnxNormalize, SwinsShiftedWindowsFoldToConstantsAtTheInputSize) {
  // The window partition's shapes and the attention mask depend on the
  // input size only, through chains that need folding, shape inference and
  // folding again; the biases are added on a leading axis of 4 windows.
  NEED_MODELS();
  const onnx::ModelProto before = model(dir, "shifted_windows");
  for (const char* op : {"Mod", "Range", "ScatterND", "Where"}) EXPECT_GT(count_ops(before, op), 0) << op;
  onnx::ModelProto copy = before;
  const cnn::NormalizeReport r = normalize_onnx(copy, {1, 3, 24, 24});
  EXPECT_TRUE(r.used_input_shape);
  EXPECT_GT(r.expanded, 0);
  const onnx::ModelProto m = check_model(dir, "shifted_windows");
  for (const char* op : {"Shape", "Mod", "Range", "ScatterND", "Where", "Equal", "Not", "ConstantOfShape"})
    EXPECT_EQ(count_ops(m, op), 0) << op;
}

TEST(OnnxNormalize, MaxvitsEinsumsBecomeMatMuls) {
  NEED_MODELS();
  EXPECT_EQ(count_ops(model(dir, "einsum_attention"), "Einsum"), 2);
  const onnx::ModelProto m = check_model(dir, "einsum_attention");
  EXPECT_EQ(count_ops(m, "Einsum"), 0);
  EXPECT_EQ(count_ops(m, "Transpose"), 1);  // k's last two axes, for q k^T
}

TEST(OnnxNormalize, LayerNormOnAFlattenedRow) {
  NEED_MODELS();
  const onnx::ModelProto m = check_model(dir, "layer_norm_flat");
  EXPECT_EQ(count_ops(m, "MatMul"), 2);  // the mean spread for the Sub, the deviation for the Div
}

// A graph `x -> op(x, inputs...) -> y` for the rewrites' own rules.
onnx::GraphProto one_node(const std::string& op, const std::vector<std::string>& inputs,
                          const std::vector<std::string>& outputs = {"y"}) {
  onnx::GraphProto g;
  auto* n = g.add_node();
  n->set_op_type(op);
  n->add_input("x");
  for (const auto& i : inputs) n->add_input(i);
  for (const auto& o : outputs) n->add_output(o);
  g.add_output()->set_name("y");
  return g;
}

void add_scalar(onnx::GraphProto& g, const std::string& name, int32_t type, double v) {
  cnn::ConstValue c;
  c.type = type;
  if (c.is_float()) c.f = {v};
  else c.i = {static_cast<int64_t>(v)};
  *g.add_initializer() = cnn::to_tensor(c, name);
}

TEST(OnnxNormalize, OnlyDropoutsThatAreTheIdentityLoseTheirInputs) {
  using TP = onnx::TensorProto;
  struct Case {
    double ratio, training;
    bool identity;
  };
  for (const Case c : {Case{0.0, 1, true}, Case{0.5, 0, true}, Case{0.5, 1, false}}) {
    onnx::GraphProto g = one_node("Dropout", {"ratio", "training"});
    add_scalar(g, "ratio", TP::FLOAT, c.ratio);
    add_scalar(g, "training", TP::BOOL, c.training);
    EXPECT_EQ(cnn::strip_inference_dropouts(g), c.identity ? 1 : 0) << c.ratio << " " << c.training;
    EXPECT_EQ(g.node(0).input_size(), c.identity ? 1 : 3);
    EXPECT_EQ(g.initializer_size(), c.identity ? 0 : 2);  // unused bounds dropped
  }
  // A mask someone reads is not the identity's.
  onnx::GraphProto g = one_node("Dropout", {"ratio", "training"}, {"y", "mask"});
  add_scalar(g, "ratio", TP::FLOAT, 0.0);
  add_scalar(g, "training", TP::BOOL, 1);
  g.add_output()->set_name("mask");
  EXPECT_EQ(cnn::strip_inference_dropouts(g), 0);
}

TEST(OnnxNormalize, OnlyTrailingAbsentInputsAreDropped) {
  onnx::GraphProto g = one_node("Resize", {"", "scales", ""});
  EXPECT_EQ(cnn::drop_empty_trailing_inputs(g), 1);
  ASSERT_EQ(g.node(0).input_size(), 3);  // x, "", scales: the middle one keeps its place
  EXPECT_EQ(g.node(0).input(1), "");
  EXPECT_EQ(g.node(0).input(2), "scales");
  EXPECT_EQ(cnn::drop_empty_trailing_inputs(g), 0);
}

TEST(OnnxNormalize, ConstantsOnALeadingAxisOtherThanOneAreExpandedToTheWholeShape) {
  // [1, 3, 2, 2] onto [4, 3, 2, 2] (swin's relative position bias onto its
  // 4 windows); onto [1, 3, 2, 2] OpenCV's Scale takes it as it is.
  for (int64_t windows : {4, 1}) {
    onnx::GraphProto g = one_node("Add", {"bias"});
    cnn::ConstValue bias;
    bias.dims = {1, 3, 2, 2};
    for (int k = 0; k < 12; ++k) bias.f.push_back(k);
    *g.add_initializer() = cnn::to_tensor(bias, "bias");
    EXPECT_EQ(cnn::expand_trailing_constants(g, {{"x", {windows, 3, 2, 2}}}), windows > 1 ? 1 : 0);
    ASSERT_EQ(g.initializer_size(), 1);
    const auto v = cnn::from_tensor(g.initializer(0));
    ASSERT_TRUE(v);
    EXPECT_EQ(v->dims, (std::vector<int64_t>{windows, 3, 2, 2}));
    for (size_t k = 0; k < v->f.size(); ++k) EXPECT_EQ(v->f[k], bias.f[k % 12]) << k;
    EXPECT_EQ(g.node(0).input(1), g.initializer(0).name());
  }
}

// The Einsum node of `equation` on x and w, as einsum_to_matmul leaves it:
// "op(inputs)" per node.
std::vector<std::string> einsum_rewritten(const std::string& equation) {
  onnx::GraphProto g = one_node("Einsum", {"w"});
  auto* a = g.mutable_node(0)->add_attribute();
  a->set_name("equation");
  a->set_type(onnx::AttributeProto::STRING);
  a->set_s(equation);
  cnn::einsum_to_matmul(g);
  std::vector<std::string> nodes;
  for (const auto& n : g.node()) {
    std::string t = n.op_type() + "(";
    for (const auto& in : n.input()) t += (t.back() == '(' ? "" : ",") + in;
    nodes.push_back(t + ")");
  }
  return nodes;
}

TEST(OnnxNormalize, OnlyBatchedMatrixProductEinsumsBecomeMatMul) {
  using V = std::vector<std::string>;
  EXPECT_EQ(einsum_rewritten("bij,bjk->bik"), (V{"MatMul(x,w)"}));
  EXPECT_EQ(einsum_rewritten("B I D, B J D -> B I J"), (V{"Transpose(w)", "MatMul(x,y/transposed_1)"}));
  EXPECT_EQ(einsum_rewritten("bki,bkj->bij"), (V{"Transpose(x)", "MatMul(y/transposed_0,w)"}));
  for (const char* other : {"bij,bjk->bki", "bij,cjk->bik", "ij,jk->k", "...ij,...jk->...ik", "bij,bjk->bij", "ii,ij->ij"})
    EXPECT_EQ(einsum_rewritten(other), (V{"Einsum(x,w)"})) << other;
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
