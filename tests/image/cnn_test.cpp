// cnn.features against the ONNX model run in float64 by PyTorch
// (make_cnn_goldens.py, onnx_ref.py): the output and intermediate layers,
// max|ours - ref| <= 1e-3 max|ref| (spec §7). Then layer listing, errors,
// the digits model classifying the sample digits, and the shipped pipelines.
#include "image_support.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace featpipe::test {
namespace {

std::string features_step(const std::string& model, int64_t h, int64_t w, const std::string& layer) {
  std::string s = "  - use: cnn.features\n    with: {model: '" + model + "', input_size: [" + std::to_string(h) + ", " +
                  std::to_string(w) + "]";
  if (layer != "-") s += ", layer: '" + layer + "'";
  return s + "}\n";
}

void check_cases(const fs::path& table, const fs::path& base, size_t min_cases) {
  auto cases = read_table(table);
  ASSERT_GE(cases.size(), min_cases);
  for (const auto& c : cases) {
    ASSERT_EQ(c.size(), 4u);
    npy::Array in = npy::read((base / c[1]).string());
    npy::Array ref = npy::read((base / c[3]).string());
    ASSERT_EQ(in.shape.size(), 3u);
    Tensor out = run_steps_on_tensor(features_step((base / c[0]).string(), in.shape[1], in.shape[2], c[2]),
                                     {"channel", "height", "width"}, in.shape, in.data);
    EXPECT_EQ(out.shape, ref.shape) << c[2];
    if (out.shape != ref.shape) continue;
    const double rel = rel_diff(out.data, ref.data);
    std::printf("  %-58s %-14s max|diff|/max|ref| %.2e\n", c[2].c_str(), fs::path(c[0]).filename().c_str(), rel);
    EXPECT_LE(rel, 1e-3) << c[0] << " layer " << c[2];
  }
}

TEST(CnnFeatures, DigitsModelMatchesTorchGoldens) {
  check_cases(image_data() / "cnn_cases.txt", source_dir(), 5);
}

TEST(CnnFeatures, MobilenetV2MatchesTorchLive) {
  if (!python_has("numpy torch torchvision onnx")) GTEST_SKIP() << "torch/torchvision/onnx not importable";
  TempDir tmp;
  auto r = run_shell(quote(python()) + " " + quote((source_dir() / "tests/image/make_cnn_goldens.py").string()) +
                     " mobilenet " + quote(tmp.path().string()));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  check_cases(tmp / "cnn_cases.txt", "/", 4);
}

TEST(CnnFeatures, OpenCvLayerNamesAccepted) {
  npy::Array in = npy::read((image_data() / "cnn_in_photo_32.npy").string());
  const std::string model = (source_dir() / "samples/models/digits_cnn.onnx").string();
  Tensor a = run_steps_on_tensor(features_step(model, 32, 32, "/features/features.4/Conv_output_0"),
                                 {"channel", "height", "width"}, in.shape, in.data);
  Tensor b = run_steps_on_tensor(features_step(model, 32, 32, "onnx_node!/features/features.4/Conv"),
                                 {"channel", "height", "width"}, in.shape, in.data);
  EXPECT_EQ(a.shape, (std::vector<int64_t>{32, 16, 16}));
  EXPECT_EQ(a.axes, (std::vector<std::string>{"channel", "height", "width"}));
  EXPECT_EQ(a.data, b.data);
}

struct Yaml {
  TempDir tmp;
  fs::path path;
  explicit Yaml(const std::string& steps) : path(tmp / "p.yaml") {
    write_text(path, "featpipe: 1\nname: cnn\nstages:\n" + steps);
  }
};

const std::string kDigitsPre =
    "  - use: image.decode\n    with: {color: rgb}\n"
    "  - use: image.resize\n    with: {size: [32, 32]}\n"
    "  - use: image.normalize\n    with: {mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225]}\n";

std::string digits_model() { return (source_dir() / "samples/models/digits_cnn.onnx").string(); }

TEST(CnnFeatures, ValidateListsLayersAndShapes) {
  Yaml y(kDigitsPre + features_step(digits_model(), 32, 32, "-"));
  CmdResult r = run_cli({"validate", y.path.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const char* s : {"/features/features.4/Conv_output_0", "[32, 16, 16]", "/features/features.10/Relu_output_0",
                        "[64, 8, 8]", "logits", "[10]"})
    EXPECT_NE(r.out.find(s), std::string::npos) << s << " not in:\n" << r.out;
}

TEST(CnnFeatures, WrongInputSizeIsALoadError) {
  Yaml y("  - use: image.decode\n    with: {color: rgb}\n  - use: image.resize\n    with: {size: [40, 40]}\n" +
         features_step(digits_model(), 32, 32, "-"));
  CmdResult r = run_cli({"validate", y.path.string()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("40x40"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("input_size"), std::string::npos) << r.err;
}

TEST(CnnFeatures, WrongInputSizeAtRunFailsThatFile) {
  Yaml y("  - use: image.decode\n    with: {color: rgb}\n" + features_step(digits_model(), 32, 32, "-"));
  CmdResult r = run_cli({"run", y.path.string(), (image_data() / "photo_small.png").string(),
                         (source_dir() / "samples/images/digit_3_0.png").string(), "-o", (y.tmp / "out").string()});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("photo_small.png"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("37x50"), std::string::npos) << r.err;
  EXPECT_TRUE(fs::exists(y.tmp / "out/digit_3_0.png.npy"));
}

TEST(CnnFeatures, WrongChannelCountIsALoadError) {
  Yaml y("  - use: image.decode\n    with: {color: gray}\n  - use: image.resize\n    with: {size: [32, 32]}\n" +
         features_step(digits_model(), 32, 32, "-"));
  CmdResult r = run_cli({"validate", y.path.string()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("1 channels"), std::string::npos) << r.err;
}

TEST(CnnFeatures, UnknownLayerListsNames) {
  Yaml y(kDigitsPre + features_step(digits_model(), 32, 32, "conv9"));
  CmdResult r = run_cli({"validate", y.path.string()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("no layer 'conv9'"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("/features/features.0/Conv_output_0"), std::string::npos) << r.err;
}

TEST(CnnFeatures, MissingModelIsAnError) {
  Yaml y(kDigitsPre + features_step("/nonexistent/model.onnx", 32, 32, "-"));
  CmdResult r = run_cli({"validate", y.path.string()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("cannot load ONNX model"), std::string::npos) << r.err;
}

TEST(CnnFeatures, NotAModelIsAnError) {
  Yaml y(kDigitsPre + features_step((source_dir() / "samples/images/chelsea.jpg").string(), 32, 32, "-"));
  CmdResult r = run_cli({"validate", y.path.string()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("cannot load ONNX model"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("chelsea.jpg"), std::string::npos) << r.err;
}

TEST(CnnFeatures, AFolderIsNotAModel) {
  TempDir dir;
  fs::create_directories(dir / "model.onnx");
  Yaml y(kDigitsPre + features_step((dir / "model.onnx").string(), 32, 32, "-"));
  CmdResult r = run_cli({"validate", y.path.string()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("model.onnx is a folder, not a model file"), std::string::npos) << r.err;
}

TEST(CnnFeatures, DigitsModelClassifiesSampleDigits) {
  auto pipe = Pipeline::parse("featpipe: 1\nname: digits\nstages:\n" + kDigitsPre + features_step(digits_model(), 32, 32, "-"),
                              "digits.yaml", source_dir().string());
  auto session = pipe->session();  // one model load, reused for every file
  int n = 0;
  for (const auto& e : fs::directory_iterator(source_dir() / "samples/images")) {
    const std::string name = e.path().filename().string();
    if (name.rfind("digit_", 0) != 0) continue;
    Tensor logits = session->run_file(e.path().string());
    ASSERT_EQ(logits.shape, (std::vector<int64_t>{10}));
    const int label = name[6] - '0';
    const auto best = std::max_element(logits.data.begin(), logits.data.end()) - logits.data.begin();
    EXPECT_EQ(best, label) << name;
    ++n;
  }
  EXPECT_GE(n, 3);
}

// The shipped pipelines run on the shipped samples.
TEST(ImagePipelines, EmbeddingIsUnitLength) {
  TempDir tmp;
  CmdResult r = run_cli({"run", (source_dir() / "pipelines/image-embedding.yaml").string(),
                         (source_dir() / "samples/images").string(), "-o", tmp.path().string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  int n = 0;
  for (const auto& e : fs::directory_iterator(tmp.path())) {
    if (e.path().extension() != ".npy") continue;
    npy::Array a = npy::read(e.path().string());
    ASSERT_EQ(a.shape, (std::vector<int64_t>{64})) << e.path();
    double s = 0;
    for (float v : a.data) s += double(v) * v;
    EXPECT_NEAR(std::sqrt(s), 1.0, 1e-5) << e.path();
    ++n;
  }
  EXPECT_GE(n, 8);
}

// End to end against make_embedding_golden.py: torchvision preprocessing
// (float path), the CNN in float64, GeM, L2.
void check_embeddings(const fs::path& ref_dir) {
  TempDir tmp;
  CmdResult r = run_cli({"run", (source_dir() / "pipelines/image-embedding.yaml").string(),
                         (source_dir() / "samples/images").string(), "-o", tmp.path().string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  npy::Array ref = npy::read((ref_dir / "embedding_ref.npy").string());
  auto files = read_table(ref_dir / "embedding_files.txt");
  ASSERT_EQ(ref.shape, (std::vector<int64_t>{static_cast<int64_t>(files.size()), 64}));
  ASSERT_GE(files.size(), 5u);
  for (size_t k = 0; k < files.size(); ++k) {
    npy::Array a = npy::read((tmp / (files[k][0] + ".npy")).string());
    std::vector<float> want(ref.data.begin() + 64 * k, ref.data.begin() + 64 * (k + 1));
    const double d = max_abs_diff(a.data, want);
    std::printf("  %-16s max|diff| %.2e\n", files[k][0].c_str(), d);
    EXPECT_LE(d, 1e-5) << files[k][0];
  }
}

TEST(ImagePipelines, EmbeddingMatchesTorchGolden) { check_embeddings(image_data()); }

TEST(ImagePipelines, EmbeddingMatchesTorchLive) {
  if (!python_has("numpy torch torchvision onnx PIL")) GTEST_SKIP() << "torch/torchvision/onnx not importable";
  TempDir tmp;
  auto r = run_shell(quote(python()) + " " + quote((source_dir() / "tests/image/make_embedding_golden.py").string()) +
                     " " + quote(tmp.path().string()));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  check_embeddings(tmp.path());
}

TEST(ImagePipelines, EmbeddingSameWithTwoWorkers) {
  // One model instance per worker: -j 2 gives the same bits as -j 1.
  TempDir tmp;
  const std::string pipe = (source_dir() / "pipelines/image-embedding.yaml").string();
  const std::string in = (source_dir() / "samples/images").string();
  ASSERT_EQ(run_cli({"run", pipe, in, "-o", (tmp / "j1").string(), "-j", "1"}).exit_code, 0);
  CmdResult r = run_cli({"run", pipe, in, "-o", (tmp / "j2").string(), "-j", "2"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  int n = 0;
  for (const auto& e : fs::directory_iterator(tmp / "j1")) {
    if (e.path().extension() != ".npy") continue;
    EXPECT_EQ(npy::read(e.path().string()).data, npy::read((tmp / "j2" / e.path().filename()).string()).data)
        << e.path().filename();
    ++n;
  }
  EXPECT_GE(n, 8);
}

TEST(ImagePipelines, FeatureMapIsUnitAcrossChannels) {
  TempDir tmp;
  CmdResult r = run_cli({"run", (source_dir() / "pipelines/image-featuremap.yaml").string(),
                         (source_dir() / "samples/images/chelsea.jpg").string(), "-o", tmp.path().string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  npy::Array a = npy::read((tmp / "chelsea.jpg.npy").string());
  ASSERT_EQ(a.shape, (std::vector<int64_t>{64, 56, 56}));
  const size_t n = 56 * 56;
  int unit = 0;
  for (size_t p = 0; p < n; ++p) {
    double s = 0;
    for (size_t c = 0; c < 64; ++c) s += double(a.data[c * n + p]) * a.data[c * n + p];
    if (s > 0) {
      EXPECT_NEAR(std::sqrt(s), 1.0, 1e-5);
      ++unit;
    }
  }
  EXPECT_GT(unit, static_cast<int>(n / 2));
}

}  // namespace
}  // namespace featpipe::test
