// image.decode — image files (or in-memory frames) to [channel, height, width]
// float32 in [0, 1].
//
// Files: PNG (8/16-bit, gray, RGB, palette, with or without alpha), JPEG,
// BMP, TIFF and WebP, recognized by their first bytes. JPEG goes through
// TurboJPEG (the libjpeg-turbo PIL uses, same defaults: identical pixels),
// the rest through OpenCV's imdecode.
//  - color: rgb (default), bgr or gray. Gray from a colour image is
//    0.299 R + 0.587 G + 0.114 B in float (PIL's convert("L") weights,
//    without its rounding to 8 bits); a gray file gives rgb by replication.
//  - Alpha is dropped without compositing, as PIL's convert("RGB").
//  - Values are divided by the type's maximum (255; 65535 for 16-bit; 1
//    for float TIFF), or by `scale` when given.
//  - EXIF orientation is ignored: pixels come out as stored, as PIL.Image
//    and so torchvision's ImageFolder/Resize pipelines see them (cv::imread
//    would rotate them). Models trained on PIL-loaded images expect that.
//  - Bad files fail that input with a message saying why: zero bytes, not an
//    image, truncated, corrupt, or a header claiming more than `max_pixels`
//    pixels (checked on the header before anything is allocated, so a
//    100000x100000 "decompression bomb" costs no memory).
//
// In-memory frames (camera capture): start() with a float [channel, height,
// width] spec (1, 3 or 4 channels, RGB(A) order; or [height, width] gray),
// then push() the frame: the colour conversion and `scale` apply the same
// way (without `scale`, values pass unscaled).
#include "buffer.hpp"
#include "image_io.hpp"
#include "stages.hpp"

#include <featpipe/sdk.hpp>

#include <cmath>
#include <string>
#include <vector>

namespace featpipe::image {
namespace {

using sdk::Error;
using sdk::Param;
using sdk::Spec;

enum class Color { rgb, bgr, gray };

// Packed RGB -> three float planes times `mul` (v * mul in float).
template <class T>
__attribute__((target_clones("avx2", "default")))
void deinterleave3(const T* src, size_t n, float mul, float* r, float* g, float* b) {
  for (size_t k = 0; k < n; ++k) {
    r[k] = static_cast<float>(src[3 * k]) * mul;
    g[k] = static_cast<float>(src[3 * k + 1]) * mul;
    b[k] = static_cast<float>(src[3 * k + 2]) * mul;
  }
}

class Decode final : public sdk::Stage, public sdk::StageDefaults {
 public:
  static constexpr const char* kName = "image.decode";
  static constexpr const char* kDoc =
      "Decodes PNG (8/16-bit, alpha dropped), JPEG, BMP, TIFF, WebP to [channel, height, width] "
      "float32 in [0, 1] (divided by the type's maximum unless `scale`); EXIF orientation is "
      "ignored, as PIL/torchvision do. Also takes in-memory frames [channel, height, width].";
  static constexpr const char* kExample = "- use: image.decode\n  with: {color: rgb}";
  static constexpr const char* kExtensions = "png jpg jpeg jpe bmp dib tif tiff webp";
  static constexpr uint32_t kFlags = FP_STAGE_SOURCE;
  static constexpr fp_param_desc kParams[] = {
      Param::Choice("color", "rgb", "rgb|bgr|gray").doc("channel layout of the output: rgb, bgr or gray"),
      Param::Float("scale", "null").nullable().range(1e-30, 1e30)
          .doc("divide raw values by this (default: 255 for 8-bit, 65535 for 16-bit, 1 for float)"),
      Param::Int("max_pixels", "178956970").range(1, 1e15)
          .doc("refuse images whose header claims more pixels (PIL's bomb limit)")};

  explicit Decode(const sdk::Params& p)
      : color_(parse_color(p.s("color"))),
        scale_(p.is_null("scale") ? std::nan("") : p.f("scale")),
        max_pixels_(p.i("max_pixels")) {}

  Spec configure(const Spec& in, fp_stream_info& info) override {
    info = fp_stream_info{};
    int channels = color_ == Color::gray ? 1 : 3;
    if (in.rank() == 0) return Spec({{"channel", channels}, {"height", -1}, {"width", -1}});
    // In-memory frame.
    sdk::check(in.rank() == 2 || in.rank() == 3, nullptr,
               "image.decode takes files, or frames [channel, height, width] / [height, width]; got ",
               in.axes_text());
    if (in.rank() == 3) {
      int64_t c = in.dim(0);
      sdk::check(c < 0 || c == 1 || c == 3 || c == 4, nullptr,
                 "a frame needs 1, 3 or 4 channels (gray, RGB, RGBA) on its first axis; got ", in.axes_text());
    }
    return Spec({{"channel", channels},
                 {"height", in.dim(in.rank() - 2)},
                 {"width", in.dim(in.rank() - 1)}});
  }

  Spec open_file(const std::string& path) override {
    read_file(path, bytes_);
    cv::Mat img = decode(bytes_, max_pixels_, pixels_);
    double div = std::isnan(scale_) ? (img.depth() == CV_8U ? 255.0 : img.depth() == CV_16U ? 65535.0 : 1.0)
                                    : scale_;
    to_planes(img, div);
    pending_ = true;
    return Spec({{"channel", out_channels()}, {"height", img.rows}, {"width", img.cols}});
  }

  void push(fp_tensor& in, fp_tensor& out) override {
    sdk::check(in.rank == 2 || in.rank == 3, nullptr, "image.decode: a frame must be [channel, height, width]");
    int64_t c = in.rank == 3 ? in.shape[0] : 1;
    int64_t h = in.shape[in.rank - 2], w = in.shape[in.rank - 1];
    sdk::check(c == 1 || c == 3 || c == 4, nullptr, "a frame needs 1, 3 or 4 channels, got ", c);
    const float mul = std::isnan(scale_) ? 1.0f : static_cast<float>(1.0 / scale_);
    const size_t n = static_cast<size_t>(h * w);
    const float* src = in.data;
    float* dst = buf_.ensure(static_cast<size_t>(out_channels()) * n);
    if (color_ == Color::gray) {
      if (c == 1) {
        for (size_t k = 0; k < n; ++k) dst[k] = src[k] * mul;
      } else {
        for (size_t k = 0; k < n; ++k)
          dst[k] = (0.299f * src[k] + 0.587f * src[n + k] + 0.114f * src[2 * n + k]) * mul;
      }
    } else {
      for (int ch = 0; ch < 3; ++ch) {
        int s = c == 1 ? 0 : (color_ == Color::bgr ? 2 - ch : ch);
        for (size_t k = 0; k < n; ++k) dst[ch * n + k] = src[s * n + k] * mul;
      }
    }
    out = sdk::view(buf_.data(), {out_channels(), h, w});
  }

  void flush(fp_tensor& out) override {
    if (!pending_) { out = fp_tensor{}; return; }
    pending_ = false;
    out = sdk::view(buf_.data(), {out_channels(), rows_, cols_});
  }

 private:
  static Color parse_color(const std::string& s) {
    return s == "gray" ? Color::gray : s == "bgr" ? Color::bgr : Color::rgb;
  }
  int out_channels() const { return color_ == Color::gray ? 1 : 3; }

  // Interleaved RGB/gray (8/16-bit or float) -> planar float / div.
  void to_planes(const cv::Mat& img, double div) {
    rows_ = img.rows;
    cols_ = img.cols;
    const size_t n = static_cast<size_t>(rows_) * static_cast<size_t>(cols_);
    buf_.ensure(n * static_cast<size_t>(out_channels()));
    switch (img.depth()) {
      case CV_8U: planes<uint8_t>(img, static_cast<float>(1.0 / div)); break;
      case CV_16U: planes<uint16_t>(img, static_cast<float>(1.0 / div)); break;
      default: planes<float>(img, static_cast<float>(1.0 / div)); break;
    }
  }

  template <class T>
  void planes(const cv::Mat& img, float mul) {
    const int c = img.channels();
    const size_t n = static_cast<size_t>(rows_) * static_cast<size_t>(cols_);
    float* dst = buf_.data();
    if (c == 3 && color_ != Color::gray && img.isContinuous()) {
      float* r = dst + (color_ == Color::bgr ? 2 * n : 0);
      float* b = dst + (color_ == Color::bgr ? 0 : 2 * n);
      deinterleave3(img.ptr<T>(0), n, mul, r, dst + n, b);
      return;
    }
    for (int y = 0; y < rows_; ++y) {
      const T* row = img.ptr<T>(y);
      const size_t o = static_cast<size_t>(y) * static_cast<size_t>(cols_);
      if (c == 1) {
        for (int x = 0; x < cols_; ++x) {
          float v = static_cast<float>(row[x]) * mul;
          dst[o + x] = v;
          if (color_ != Color::gray) dst[n + o + x] = dst[2 * n + o + x] = v;
        }
      } else if (color_ == Color::gray) {
        for (int x = 0; x < cols_; ++x)
          dst[o + x] = (0.299f * static_cast<float>(row[3 * x]) + 0.587f * static_cast<float>(row[3 * x + 1]) +
                        0.114f * static_cast<float>(row[3 * x + 2])) * mul;
      } else {
        const size_t r = color_ == Color::bgr ? 2 * n : 0, b = color_ == Color::bgr ? 0 : 2 * n;
        for (int x = 0; x < cols_; ++x) {
          dst[r + o + x] = static_cast<float>(row[3 * x]) * mul;
          dst[n + o + x] = static_cast<float>(row[3 * x + 1]) * mul;
          dst[b + o + x] = static_cast<float>(row[3 * x + 2]) * mul;
        }
      }
    }
  }

  Color color_;
  double scale_;
  int64_t max_pixels_;
  Buffer buf_;
  std::vector<uint8_t> bytes_, pixels_;  // the file, decoded JPEG pixels: reused
  int rows_ = 0, cols_ = 0;
  bool pending_ = false;
};

}  // namespace

fp_stage_desc decode_stage() { return sdk::stage<Decode>(); }

}  // namespace featpipe::image
