// Separable resampling as PIL's ImagingResample (and torchvision's
// antialiased resize on tensors, which copies it): for output pixel i along
// an axis of scale s = in/out, the filter is centred at (i + 0.5)·s and, when
// downscaling with antialias, its support is widened by s (so every input
// pixel contributes: a proper low-pass); weights are normalized to sum 1
// over the pixels inside the image. PIL rounds to uint8 after each pass;
// this works in float32 (the exact result PIL rounds), which keeps us within
// about 1/255 of PIL's 8-bit output and equal to torchvision's float path.
#pragma once

#include <cstdint>
#include <vector>

namespace featpipe::image {

enum class Interp { bilinear, area, bicubic, nearest };

// Weights of a 1-D resampling from `in` to `out` pixels.
struct AxisWeights {
  int in = 0, out = 0;
  int ksize = 0;             // taps per output pixel (padded with zeros)
  std::vector<int> first;    // first input pixel of each output pixel
  std::vector<int> count;    // taps used by each output pixel
  std::vector<float> w;      // out * ksize weights
};

AxisWeights axis_weights(int in, int out, Interp interp, bool antialias);

// Resizes `planes` images of in_h x in_w (planar float) to out_h x out_w.
// `tmp`: scratch of planes * out_h * in_w floats (unused when out_h == in_h).
void resample(const float* src, int64_t planes, int in_h, int in_w, const AxisWeights& wy,
              const AxisWeights& wx, float* dst, float* tmp);

// PIL's own order for filters that overshoot (bicubic) on pixel data:
// horizontal pass first, each pass clamped to [0, hi] (PIL clips to 8 bits
// after each pass). `tmp`: scratch of planes * in_h * out_w floats.
void resample_clamped(const float* src, int64_t planes, int in_h, int in_w, const AxisWeights& wy,
                      const AxisWeights& wx, float hi, float* dst, float* tmp);

}  // namespace featpipe::image
