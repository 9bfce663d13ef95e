// The renderer behind `featpipe plot`: a feature array as a color image.
// A module of its own, loaded only when `plot` runs, so that the CLI does
// not pay OpenCV's ~140 shared libraries at every start-up.
// 2-D [frame, bin]: time runs left to right, low bins at the bottom (as a
// spectrogram is read). 3-D [channel, height, width]: channels tiled in a
// grid. 1-D: a strip. Colors: viridis over the array's finite range.
#include <featpipe/npy.hpp>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <cmath>
#include <cstdio>
#include <stdexcept>

namespace {

cv::Mat to_grid(const featpipe::npy::Array& a) {
  const auto& s = a.shape;
  float* d = const_cast<float*>(a.data.data());
  if (s.size() == 1) return cv::Mat(1, static_cast<int>(s[0]), CV_32F, d).clone();
  if (s.size() == 2) {
    cv::Mat m(static_cast<int>(s[0]), static_cast<int>(s[1]), CV_32F, d);
    cv::Mat t;
    cv::transpose(m, t);
    cv::flip(t, t, 0);
    return t;
  }
  // Leading axes folded into channels; the last two are the image.
  int64_t h = s[s.size() - 2], w = s.back(), c = 1;
  for (size_t k = 0; k + 2 < s.size(); ++k) c *= s[k];
  const int64_t shown = std::min<int64_t>(c, 256);
  const int cols = static_cast<int>(std::ceil(std::sqrt(static_cast<double>(shown))));
  const int rows = static_cast<int>((shown + cols - 1) / cols);
  cv::Mat grid(rows * static_cast<int>(h + 1), cols * static_cast<int>(w + 1), CV_32F, cv::Scalar(NAN));
  for (int64_t k = 0; k < shown; ++k) {
    cv::Mat tile(static_cast<int>(h), static_cast<int>(w), CV_32F, d + k * h * w);
    tile.copyTo(grid(cv::Rect(static_cast<int>((k % cols) * (w + 1)), static_cast<int>((k / cols) * (h + 1)),
                              static_cast<int>(w), static_cast<int>(h))));
  }
  return grid;
}

}  // namespace

// Renders `in` to `out`; on failure returns -1 with a message in `msg`.
extern "C" __attribute__((visibility("default"))) int featpipe_plot_npy(const char* in, const char* out, char* msg,
                                                                       size_t msglen) {
  try {
    featpipe::npy::Array a;
    try {
      a = featpipe::npy::read(in);
    } catch (const std::exception& e) {
      throw std::runtime_error(std::string(in) + ": " + e.what());
    }
    if (a.shape.empty() || a.data.empty()) throw std::runtime_error(std::string(in) + ": nothing to plot (empty or scalar array)");
    cv::Mat g = to_grid(a);
    double lo = INFINITY, hi = -INFINITY;
    for (float v : a.data)
      if (std::isfinite(v)) lo = std::min<double>(lo, v), hi = std::max<double>(hi, v);
    if (!std::isfinite(lo)) lo = 0, hi = 1;
    if (hi <= lo) hi = lo + 1;
    cv::Mat nan_mask = g != g;
    cv::Mat u8;
    g.convertTo(u8, CV_8U, 255.0 / (hi - lo), -lo * 255.0 / (hi - lo));
    cv::Mat color;
    cv::applyColorMap(u8, color, cv::COLORMAP_VIRIDIS);
    color.setTo(cv::Scalar(255, 255, 255), nan_mask);
    // Small arrays are enlarged (nearest, so cells stay crisp).
    const double scale = std::max(1.0, std::min(8.0, 640.0 / std::max(color.cols, color.rows)));
    if (scale > 1)
      cv::resize(color, color, cv::Size(), scale, std::max(scale, color.rows < 16 ? 32.0 / color.rows : scale),
                 cv::INTER_NEAREST);
    if (!cv::imwrite(out, color)) throw std::runtime_error(std::string(out) + ": cannot write the image");
    std::snprintf(msg, msglen, "wrote %s (%dx%d, values %g .. %g)", out, color.cols, color.rows, lo, hi);
    return 0;
  } catch (const std::exception& e) {
    std::snprintf(msg, msglen, "%s", e.what());
    return -1;
  }
}
