// image.resize — torchvision-compatible resize of the last two axes
// ([..., height, width]).
//
// size: an int resizes the shorter side to it and the longer to
// int(size · long / short), as torchvision.transforms.Resize; [h, w] is
// exact. interpolation: bilinear (default), bicubic, area (PIL's BOX filter,
// which is what cv::INTER_AREA computes when shrinking) or nearest (PIL's
// pixel at (i + 0.5)·in/out, summed up as PIL does). antialias (default
// true): when shrinking, the filter's support grows with the scale, as PIL
// and torchvision's antialias=True do: ≡ torchvision Resize on PIL images (within ~1/255,
// PIL rounds to 8 bits after each pass) and on float tensors (to float
// rounding). Without antialias the filter keeps its unit support (plain
// interpolation, aliasing on large downscales). Bicubic overshoots, and
// there torchvision's two paths part: `match: pil` (default; the reference
// of spec §7) follows PIL on pixel data (every value in [0, 1], as
// image.decode gives) — horizontal pass first, each pass clamped to [0, 1];
// `match: tensor` follows Resize(antialias=True) on float tensors,
// unclamped. Data outside [0, 1] (normalized) is never clamped. The other
// filters never overshoot, so both paths agree for them.
//
// max_pixels (default 178956970, image.decode's and PIL's bomb limit) bounds
// the output and the intermediate pass per plane: with `size: 256` a 1x20000
// image would otherwise become 256x5120000 (15 GB). Checked before anything
// is allocated.
#include "buffer.hpp"
#include "resample.hpp"
#include "stages.hpp"

#include <featpipe/sdk.hpp>

#include <algorithm>
#include <string>
#include <vector>

namespace featpipe::image {
namespace {

using sdk::Param;
using sdk::Spec;

class Resize final : public sdk::Stage, public sdk::StageDefaults {
 public:
  static constexpr const char* kName = "image.resize";
  static constexpr const char* kDoc =
      "Resizes [..., height, width]: size = shorter side (long side int(size*long/short)) or [h, w]; "
      "antialiased bilinear/bicubic/area as PIL and torchvision Resize(antialias=True), or nearest.";
  static constexpr const char* kExample = "- use: image.resize\n  with: {size: 256}";
  static constexpr fp_param_desc kParams[] = {
      Param::Ints("size", nullptr).count(1, 2).range(1, 1 << 20).unit("pixels")
          .doc("shorter side, or [height, width]"),
      Param::Choice("interpolation", "bilinear", "bilinear|area|bicubic|nearest").doc("resampling filter"),
      Param::Bool("antialias", "true").doc("widen the filter when shrinking (PIL/torchvision antialias)"),
      Param::Choice("match", "pil", "pil|tensor")
          .doc("bicubic only: torchvision's PIL path (clamped per pass) or its float tensor path (unclamped)"),
      Param::Int("max_pixels", "178956970").range(1, 2147483647)
          .doc("refuse an output (or intermediate pass) of more pixels per plane than this")};

  explicit Resize(const sdk::Params& p)
      : size_(p.numbers("size")), antialias_(p.b("antialias")), match_pil_(p.s("match") == "pil"),
        max_pixels_(p.i("max_pixels")) {
    if (size_.size() == 2)
      sdk::check(size_[0] * size_[1] <= static_cast<double>(max_pixels_), "size", "size ", size_[0], "x", size_[1],
                 " is over max_pixels (", max_pixels_, ")");
    std::string i = p.s("interpolation");
    interp_ = i == "bicubic" ? Interp::bicubic : i == "area" ? Interp::area : i == "nearest" ? Interp::nearest
                                                                                         : Interp::bilinear;
  }

  Spec configure(const Spec& in, fp_stream_info& info) override {
    info = fp_stream_info{};
    sdk::check(in.rank() >= 2, nullptr, "image.resize needs [..., height, width], got ", in.axes_text());
    sdk::check(in.stream_axis() < 0 || in.stream_axis() < in.rank() - 2, nullptr,
               "image.resize cannot resize along the stream axis of ", in.axes_text());
    Spec out = in;
    auto [h, w] = out_size(in.dim(in.rank() - 2), in.dim(in.rank() - 1));
    out.set_dim(in.rank() - 2, h);
    out.set_dim(in.rank() - 1, w);
    return out;
  }

  void push(fp_tensor& in, fp_tensor& out) override {
    const int r = in.rank;
    const int64_t in_h = in.shape[r - 2], in_w = in.shape[r - 1];
    sdk::check(in_h > 0 && in_w > 0, nullptr, "image.resize: empty image ", in_h, "x", in_w);
    auto [h, w] = out_size(in_h, in_w);
    check_pixels(in_h, in_w, h, w);
    if (wy_.in != in_h || wy_.out != h) wy_ = axis_weights(static_cast<int>(in_h), static_cast<int>(h), interp_, antialias_);
    if (wx_.in != in_w || wx_.out != w) wx_ = axis_weights(static_cast<int>(in_w), static_cast<int>(w), interp_, antialias_);
    const int64_t planes = sdk::span_of(in, 0, r - 2);
    float* dst = buf_.ensure(static_cast<size_t>(planes * h * w));
    if (interp_ == Interp::bicubic && match_pil_ && is_pixel_data(in.data, planes * in_h * in_w)) {
      float* tmp = tmp_.ensure(static_cast<size_t>(planes * in_h * w));
      resample_clamped(in.data, planes, static_cast<int>(in_h), static_cast<int>(in_w), wy_, wx_, 1.0f, dst, tmp);
    } else {
      float* tmp = h != in_h ? tmp_.ensure(static_cast<size_t>(planes * h * in_w)) : nullptr;
      resample(in.data, planes, static_cast<int>(in_h), static_cast<int>(in_w), wy_, wx_, dst, tmp);
    }
    out = in;
    out.data = buf_.data();
    out.shape[r - 2] = h;
    out.shape[r - 1] = w;
  }

 private:
  static bool is_pixel_data(const float* x, int64_t n) {
    float lo = 0.0f, hi = 1.0f;
    for (int64_t k = 0; k < n; ++k) lo = std::min(lo, x[k]), hi = std::max(hi, x[k]);
    return lo >= 0.0f && hi <= 1.0f;
  }

  // The output and both passes' intermediates (h x in_w, in_h x w), per
  // plane, within max_pixels; doubles so that no product wraps around.
  void check_pixels(int64_t in_h, int64_t in_w, int64_t h, int64_t w) const {
    const double most = static_cast<double>(max_pixels_);
    const double pixels = static_cast<double>(h) * static_cast<double>(w);
    sdk::check(pixels <= most, nullptr, "image.resize: resizing ", in_h, "x", in_w, " to ", h, "x", w, " would make ",
               pixels < 9e18 ? std::to_string(static_cast<int64_t>(pixels)) : sdk::cat(pixels),
               " pixels, over max_pixels (", max_pixels_, ")");
    sdk::check(static_cast<double>(h) * static_cast<double>(in_w) <= most &&
                   static_cast<double>(in_h) * static_cast<double>(w) <= most,
               nullptr, "image.resize: resizing ", in_h, "x", in_w, " to ", h, "x", w,
               " needs an intermediate pass over max_pixels (", max_pixels_, ")");
  }

  // torchvision's _compute_resized_output_size (max_size unset); -1 stays
  // unknown.
  std::pair<int64_t, int64_t> out_size(int64_t h, int64_t w) const {
    if (size_.size() == 2) return {static_cast<int64_t>(size_[0]), static_cast<int64_t>(size_[1])};
    if (h < 0 || w < 0) return {-1, -1};
    const int64_t s = static_cast<int64_t>(size_[0]);
    const int64_t shorter = std::min(h, w), longer = std::max(h, w);
    const int64_t new_long = static_cast<int64_t>(static_cast<double>(s * longer) / static_cast<double>(shorter));
    return w <= h ? std::pair{new_long, s} : std::pair{s, new_long};
  }

  std::vector<double> size_;
  bool antialias_;
  bool match_pil_;
  Interp interp_;
  int64_t max_pixels_;
  AxisWeights wy_, wx_;
  Buffer buf_, tmp_;
};

}  // namespace

fp_stage_desc resize_stage() { return sdk::stage<Resize>(); }

}  // namespace featpipe::image
