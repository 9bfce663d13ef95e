// The backend seam of cnn.features (plugins/cnn/backend.hpp): the stage
// driven through the engine by a fake backend (fake_backend.cpp, in a
// fixture plugin without OpenCV), and the OpenCV backend on its own against
// the goldens of the stage tests.
#include "backend.hpp"
#include "image_support.hpp"

#include <gtest/gtest.h>

#include <numeric>

namespace featpipe::test {
namespace {

// A fake model file declaring its input; removed with the test.
struct FakeModel {
  TempDir tmp;
  fs::path path;
  explicit FakeModel(const std::string& declared = "1 2 -1 -1") : path(tmp / "m.fake") {
    write_text(path, "input " + declared + "\n");
  }
};

std::shared_ptr<const Pipeline> load_fake(const FakeModel& m, const std::string& with, int64_t c, int64_t h,
                                          int64_t w) {
  LoadOptions opts;
  opts.builtin_plugins = false;
  opts.plugin_files = {FIXTURE_CNN_FAKE};
  opts.input = TensorSpec{{"channel", "height", "width"}, {c, h, w}, -1, {}};
  return Pipeline::parse("featpipe: 1\nname: fake\nstages:\n  - use: cnn.features\n    with: {model: '" +
                             m.path.string() + "', " + with + "}\n",
                         "fake.yaml", m.tmp.path().string(), opts);
}

// 2 channels of 3 x 4: value = 100 * channel + 10 * row + column.
Tensor input_2x3x4() {
  Tensor t;
  t.axes = {"channel", "height", "width"};
  t.shape = {2, 3, 4};
  for (int k = 0; k < 2; ++k)
    for (int i = 0; i < 3; ++i)
      for (int j = 0; j < 4; ++j) t.data.push_back(100.0f * k + 10.0f * i + j);
  return t;
}

TEST(CnnBackend, FakeBackendOutputWithoutBatchAxis) {
  FakeModel m;
  auto pipe = load_fake(m, "input_size: [3, 4]", 2, 3, 4);
  Tensor out = pipe->session()->run(input_2x3x4());
  EXPECT_EQ(out.shape, (std::vector<int64_t>{2}));
  EXPECT_EQ(out.axes, (std::vector<std::string>{"feature"}));
  EXPECT_EQ(out.data, (std::vector<float>{11.5f, 111.5f}));  // channel means
}

TEST(CnnBackend, FakeBackendNamedLayers) {
  FakeModel m;
  Tensor sum = load_fake(m, "input_size: [3, 4], layer: sum", 2, 3, 4)->session()->run(input_2x3x4());
  EXPECT_EQ(sum.shape, (std::vector<int64_t>{1, 3, 4}));
  EXPECT_EQ(sum.axes, (std::vector<std::string>{"channel", "height", "width"}));
  ASSERT_EQ(sum.data.size(), 12u);
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 4; ++j) EXPECT_EQ(sum.data[i * 4 + j], 100.0f + 20.0f * i + 2.0f * j);

  Tensor rows = load_fake(m, "input_size: [3, 4], layer: rows", 2, 3, 4)->session()->run(input_2x3x4());
  EXPECT_EQ(rows.shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(rows.axes, (std::vector<std::string>{"channel", "position"}));
  EXPECT_EQ(rows.data, (std::vector<float>{1.5f, 11.5f, 21.5f, 101.5f, 111.5f, 121.5f}));
}

TEST(CnnBackend, FakeBackendLayersInDescription) {
  FakeModel m;
  auto pipe = load_fake(m, "input_size: [3, 4], layer: rows", 2, 3, 4);
  ASSERT_EQ(pipe->steps().size(), 1u);
  const std::string& d = pipe->steps()[0].description;
  for (const char* s : {"input pixels [2, 3, 4], 3 fake layers", "returns 'rows' (Fake layer rows) [2, 3]",
                        "  sum  ReduceSum  [1, 3, 4]  (fake!sum)", "  logits  GlobalAveragePool  [2]  (fake!logits)"})
    EXPECT_NE(d.find(s), std::string::npos) << s << " not in:\n" << d;
}

TEST(CnnBackend, BackendErrorsNameTheParameter) {
  FakeModel m;
  try {
    load_fake(m, "input_size: [3, 4], layer: conv9", 2, 3, 4);
    FAIL() << "an unknown layer loaded";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("no layer 'conv9' in the fake model"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("layer"), std::string::npos) << e.what();
  }
}

TEST(CnnBackend, DeclaredChannelCountIsChecked) {
  FakeModel m("1 2 -1 -1");
  try {
    load_fake(m, "input_size: [3, 4]", 3, 3, 4);
    FAIL() << "3 channels loaded for a model declaring 2";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("input has 3 channels"), std::string::npos) << e.what();
  }
}

TEST(CnnBackend, DeclaredSizeIsNotEnforced) {
  // A model exported at one size may run at another (feature maps).
  FakeModel m("1 2 3 4");
  Tensor t = input_2x3x4();
  t.shape = {2, 4, 3};
  Tensor out = load_fake(m, "input_size: [4, 3]", 2, 4, 3)->session()->run(t);
  EXPECT_EQ(out.data, (std::vector<float>{11.5f, 111.5f}));  // same values, other layout: same means
}

// The OpenCV backend alone (linked into this test, not loaded as a plugin)
// on the digits cases of cnn_cases.txt, to the stage tests' tolerance.
TEST(CnnBackend, OpenCvBackendMatchesTorchGoldens) {
  int n = 0;
  for (const auto& c : read_table(image_data() / "cnn_cases.txt")) {
    ASSERT_EQ(c.size(), 4u);
    npy::Array in = npy::read((source_dir() / c[1]).string());
    npy::Array ref = npy::read((source_dir() / c[3]).string());
    auto b = cnn::open_backend((source_dir() / c[0]).string(), c[2] == "-" ? "" : c[2]);
    EXPECT_EQ(b->names().backend, "OpenCV");
    EXPECT_EQ(b->input_shape(), (cnn::Shape{1, 3, -1, -1}));  // digits_cnn.onnx: [1, 3, height, width]
    const cnn::Shape shape{1, in.shape[0], in.shape[1], in.shape[2]};
    cnn::Shape want{1};
    want.insert(want.end(), ref.shape.begin(), ref.shape.end());
    EXPECT_EQ(b->output_shape(shape), want) << c[2];
    cnn::OutputView v = b->forward(in.data.data(), shape);
    ASSERT_EQ(v.shape, want) << c[2];
    const size_t size = std::accumulate(want.begin(), want.end(), size_t{1}, std::multiplies<>());
    EXPECT_LE(rel_diff(std::vector<float>(v.data, v.data + size), ref.data), 1e-3) << c[0] << " layer " << c[2];
    ++n;
  }
  EXPECT_GE(n, 5);
}

TEST(CnnBackend, OpenCvBackendListsOnnxNames) {
  auto b = cnn::open_backend((source_dir() / "samples/models/digits_cnn.onnx").string(), "");
  EXPECT_EQ(b->names().output, "logits");
  EXPECT_EQ(b->names().input, "image");
  bool conv = false;
  for (const auto& l : b->layers({1, 3, 32, 32}))
    if (l.name == "/features/features.4/Conv_output_0") {
      conv = true;
      EXPECT_EQ(l.op, "Convolution");
      EXPECT_EQ(l.shape, (cnn::Shape{32, 16, 16}));
      EXPECT_EQ(l.alias, "onnx_node!/features/features.4/Conv");
    }
  EXPECT_TRUE(conv);
}

}  // namespace
}  // namespace featpipe::test
