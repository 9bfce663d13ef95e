// image.decode -> image.resize -> image.center_crop against torchvision
// (make_test_data.py): the PIL path (Resize, CenterCrop, ToTensor) within
// 1e-2 in [0, 1] units (spec §7), the float tensor path (antialias=True)
// within 1e-5, lossless decodes exactly. Goldens committed; recomputed live,
// with ImageNet-size cases on samples/images, when torchvision is present.
#include "image_support.hpp"

#include <gtest/gtest.h>

#include <cstdio>

namespace featpipe::test {
namespace {

std::string size_yaml(const std::string& s) {
  auto x = s.find('x');
  return x == std::string::npos ? s : "[" + s.substr(0, x) + ", " + s.substr(x + 1) + "]";
}

// One line of cases.txt: name image color resize crop interpolation
// antialias golden scale tol. Returns max |ours - ref| in [0, 1] units.
double check_case(const std::vector<std::string>& c, const fs::path& golden_dir) {
  std::string steps = "  - use: image.decode\n    with: {color: " + c[2] + "}\n";
  if (c[3] != "-")
    steps += "  - use: image.resize\n    with: {size: " + size_yaml(c[3]) + ", interpolation: " + c[5] +
             ", antialias: " + c[6] + ", match: " + (c[8] == "255" ? "pil" : "tensor") + "}\n";
  if (c[4] != "-") steps += "  - use: image.center_crop\n    with: {size: " + size_yaml(c[4]) + "}\n";
  Tensor ours = run_steps_on_file(steps, source_dir() / c[1]);
  npy::Array ref = npy::read((golden_dir / c[7]).string());
  const double scale = std::stod(c[8]);
  for (float& v : ref.data) v = static_cast<float>(v / scale);
  EXPECT_EQ(ours.shape, ref.shape) << c[0];
  EXPECT_EQ(ours.axes, (std::vector<std::string>{"channel", "height", "width"})) << c[0];
  if (ours.shape != ref.shape) return 1e9;
  return max_abs_diff(ours.data, ref.data);
}

void check_all(const fs::path& dir, int min_cases) {
  auto cases = read_table(dir / "cases.txt");
  ASSERT_GE(static_cast<int>(cases.size()), min_cases);
  double worst_pil = 0;
  for (const auto& c : cases) {
    ASSERT_EQ(c.size(), 10u);
    const double tol = std::stod(c[9]);
    const double d = check_case(c, dir);
    EXPECT_LE(d, tol) << "case " << c[0] << " (" << c[1] << ")";
    if (c[8] == "255" && tol >= 1e-2) worst_pil = std::max(worst_pil, d);
    std::printf("  %-28s max|diff| %.3g (tol %g)\n", c[0].c_str(), d, tol);
  }
  std::printf("worst vs torchvision PIL path: %.4f (%.2f/255)\n", worst_pil, worst_pil * 255);
}

TEST(ImagePreprocess, MatchesTorchvisionGoldens) { check_all(image_data(), 25); }

TEST(ImagePreprocess, MatchesTorchvisionLive) {
  if (!python_has("numpy torch torchvision PIL")) GTEST_SKIP() << "torchvision not importable";
  TempDir tmp;
  auto r = run_shell(quote(python()) + " " + quote((source_dir() / "tests/image/make_test_data.py").string()) +
                     " goldens " + quote(tmp.path().string()) + " --full");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  check_all(tmp.path(), 30);
}

// Plain cv::resize is not what torchvision computes: this is why
// image.resize has its own filter. Guard the claim that antialias matters.
TEST(ImagePreprocess, AntialiasChangesDownscale) {
  auto steps = [](const char* aa) {
    return std::string("  - use: image.decode\n    with: {color: rgb}\n  - use: image.resize\n    with: {size: 24, "
                       "antialias: ") + aa + "}\n";
  };
  Tensor a = run_steps_on_file(steps("true"), image_data() / "photo_land.jpg");
  Tensor b = run_steps_on_file(steps("false"), image_data() / "photo_land.jpg");
  ASSERT_EQ(a.shape, b.shape);
  EXPECT_GT(max_abs_diff(a.data, b.data), 0.05);
}

TEST(ImagePreprocess, NormalizeMatchesFormula) {
  std::vector<float> x(2 * 3 * 4);
  for (size_t k = 0; k < x.size(); ++k) x[k] = static_cast<float>(k) / 23.0f;
  Tensor y = run_steps_on_tensor("  - use: image.normalize\n    with: {mean: [0.5, 0.25], std: [0.2, 4]}\n",
                                 {"channel", "height", "width"}, {2, 3, 4}, x);
  ASSERT_EQ(y.shape, (std::vector<int64_t>{2, 3, 4}));
  for (size_t k = 0; k < x.size(); ++k) {
    const double m = k < 12 ? 0.5 : 0.25, s = k < 12 ? 0.2 : 4.0;
    EXPECT_NEAR(y.data[k], (x[k] - m) / s, 1e-6);
  }
}

TEST(ImagePreprocess, NormalizeRejectsWrongChannelCount) {
  try {
    run_steps_on_tensor("  - use: image.normalize\n    with: {mean: [0.5, 0.5], std: [1, 1]}\n",
                        {"channel", "height", "width"}, {3, 2, 2}, std::vector<float>(12));
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("2 values for 3 channels"), std::string::npos) << e.what();
  }
}

TEST(ImagePreprocess, ResizeShapesFollowTorchvision) {
  // int(size * long / short): 64 * 301 / 199 = 96.8 -> 96; portrait keeps width = size.
  auto shape_of = [](const char* file, const char* size) {
    return run_steps_on_file(std::string("  - use: image.decode\n    with: {color: rgb}\n  - use: image.resize\n"
                                         "    with: {size: ") + size + "}\n", image_data() / file).shape;
  };
  EXPECT_EQ(shape_of("photo_land.jpg", "64"), (std::vector<int64_t>{3, 64, 96}));
  EXPECT_EQ(shape_of("photo_port.jpg", "64"), (std::vector<int64_t>{3, 94, 64}));
  EXPECT_EQ(shape_of("photo_port.jpg", "[10, 300]"), (std::vector<int64_t>{3, 10, 300}));
}

}  // namespace
}  // namespace featpipe::test
