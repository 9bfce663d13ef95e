// image.center_crop with a crop larger than the image by an odd amount, in
// each dimension and mixed with cropping the other: torchvision pads
// (crop - size) // 2 zeros before and the rest after, so rounding that half
// up shifts the image by one pixel. Goldens from make_center_crop_golden.py
// (torchvision's CenterCrop on the PIL image), recomputed live when
// torchvision is importable. The input is a lossless PNG and cropping only
// copies, so ours must equal the golden up to float32 rounding of k/255.
#include "image_support.hpp"

#include <gtest/gtest.h>

namespace featpipe::test {
namespace {

// Each line of <dir>/cases.txt: name image crop_height crop_width golden.
void check_cases(const fs::path& dir) {
  const auto cases = read_table(dir / "cases.txt");
  ASSERT_EQ(cases.size(), 5u) << dir;
  for (const auto& c : cases) {
    ASSERT_EQ(c.size(), 5u);
    const std::string steps = "  - use: image.decode\n    with: {color: rgb}\n"
                              "  - use: image.center_crop\n    with: {size: [" + c[2] + ", " + c[3] + "]}\n";
    const Tensor ours = run_steps_on_file(steps, source_dir() / c[1]);
    npy::Array ref = npy::read((dir / c[4]).string());
    for (float& v : ref.data) v /= 255.0f;
    ASSERT_EQ(ours.shape, ref.shape) << c[0];
    EXPECT_LE(max_abs_diff(ours.data, ref.data), 1e-6) << c[0] << ": crop " << c[2] << "x" << c[3];
  }
}

TEST(ImageCenterCrop, OddPaddingMatchesTorchvisionGolden) { check_cases(image_data() / "center_crop"); }

TEST(ImageCenterCrop, OddPaddingMatchesTorchvisionLive) {
  if (!python_has("numpy torch torchvision PIL")) GTEST_SKIP() << "torchvision not importable";
  TempDir tmp;
  const auto r = run_shell(quote(python()) + " " +
                           quote((source_dir() / "tests/image/make_center_crop_golden.py").string()) + " " +
                           quote(tmp.path().string()));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  check_cases(tmp.path());
}

}  // namespace
}  // namespace featpipe::test
