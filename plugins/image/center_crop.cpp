// image.center_crop — the central [h, w] of [..., height, width], as
// torchvision.transforms.CenterCrop: top = round((H − h) / 2) with Python's
// round (half to even), same for left; a crop larger than the image pads
// with zeros first, (h − H) // 2 before and the rest after, as torchvision.
#include "buffer.hpp"
#include "stages.hpp"

#include <featpipe/sdk.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

namespace featpipe::image {
namespace {

using sdk::Param;
using sdk::Spec;

// torchvision's offset of the crop's first row/column in the input (negative:
// zero padding before the image).
int64_t crop_offset(int64_t image, int64_t crop) {
  if (crop > image) return -((crop - image) / 2);
  return static_cast<int64_t>(std::nearbyint((image - crop) / 2.0));  // half to even, as Python's round
}

class CenterCrop final : public sdk::Stage, public sdk::StageDefaults {
 public:
  static constexpr const char* kName = "image.center_crop";
  static constexpr const char* kDoc =
      "Central crop of [..., height, width] as torchvision CenterCrop: offsets round((H - h) / 2), "
      "zero padding when the crop is larger than the image.";
  static constexpr const char* kExample = "- use: image.center_crop\n  with: {size: 224}";
  static constexpr fp_param_desc kParams[] = {
      Param::Ints("size", nullptr).count(1, 2).range(1, 1 << 20).unit("pixels")
          .doc("side of a square crop, or [height, width]")};

  explicit CenterCrop(const sdk::Params& p) {
    auto s = p.numbers("size");
    h_ = static_cast<int64_t>(s[0]);
    w_ = static_cast<int64_t>(s.size() == 2 ? s[1] : s[0]);
  }

  Spec configure(const Spec& in, fp_stream_info& info) override {
    info = fp_stream_info{};
    sdk::check(in.rank() >= 2, nullptr, "image.center_crop needs [..., height, width], got ", in.axes_text());
    sdk::check(in.stream_axis() < 0 || in.stream_axis() < in.rank() - 2, nullptr,
               "image.center_crop cannot crop the stream axis of ", in.axes_text());
    Spec out = in;
    out.set_dim(in.rank() - 2, h_);
    out.set_dim(in.rank() - 1, w_);
    return out;
  }

  void push(fp_tensor& in, fp_tensor& out) override {
    const int r = in.rank;
    const int64_t H = in.shape[r - 2], W = in.shape[r - 1];
    const int64_t planes = sdk::span_of(in, 0, r - 2);
    const int64_t top = crop_offset(H, h_), left = crop_offset(W, w_);
    const size_t total = static_cast<size_t>(planes * h_ * w_);
    float* dst = buf_.ensure(total);
    // Rows and columns of the crop that fall inside the image.
    const int64_t y0 = std::max<int64_t>(0, -top), y1 = std::min(h_, H - top);
    const int64_t x0 = std::max<int64_t>(0, -left), x1 = std::min(w_, W - left);
    if (y0 > 0 || y1 < h_ || x0 > 0 || x1 < w_) std::fill(dst, dst + total, 0.0f);  // padding
    for (int64_t p = 0; p < planes; ++p)
      for (int64_t y = y0; y < y1; ++y)
        if (x1 > x0)
          std::memcpy(dst + (p * h_ + y) * w_ + x0, in.data + (p * H + y + top) * W + x0 + left,
                      static_cast<size_t>(x1 - x0) * sizeof(float));
    out = in;
    out.data = buf_.data();
    out.shape[r - 2] = h_;
    out.shape[r - 1] = w_;
  }

 private:
  int64_t h_, w_;
  Buffer buf_;
};

}  // namespace

fp_stage_desc center_crop_stage() { return sdk::stage<CenterCrop>(); }

}  // namespace featpipe::image
