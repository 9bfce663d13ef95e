// The renderer behind `featpipe plot`: a feature array as a color image.
// A module of its own, loaded only when `plot` runs, so that the CLI does
// not pay OpenCV's ~140 shared libraries at every start-up.
// 2-D [frame, bin]: time runs left to right, low bins at the bottom (as a
// spectrogram is read). 3-D [channel, height, width]: channels tiled in a
// grid. 1-D: a strip.
// Size: an image side longer than kMaxSide cells is averaged in blocks of
// ceil(n / kMaxSide) consecutive cells (NaN and infinities left out), so a
// 1,000,000-frame array gives a 4096-pixel-wide image, not hundreds of MB.
// Colors: viridis over the 1st..99th percentile of the finite values shown
// (robust: one huge outlier does not flatten the rest), over their whole
// range (minmax), or over a range the caller fixes (so that several plots
// share one color scale); values outside are clamped to the ends.
#include <featpipe/npy.hpp>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <vector>

namespace {

constexpr int kMaxSide = 4096;

// Block means along rows and columns so that neither side exceeds kMaxSide.
cv::Mat shrink(const cv::Mat& g) {
  const int by = (g.rows + kMaxSide - 1) / kMaxSide, bx = (g.cols + kMaxSide - 1) / kMaxSide;
  if (by <= 1 && bx <= 1) return g;
  const int rows = (g.rows + by - 1) / by, cols = (g.cols + bx - 1) / bx;
  std::vector<double> sum(static_cast<size_t>(rows) * cols, 0.0);
  std::vector<int64_t> count(sum.size(), 0);
  for (int y = 0; y < g.rows; ++y) {
    const float* row = g.ptr<float>(y);
    const size_t base = static_cast<size_t>(y / by) * cols;
    for (int x = 0; x < g.cols; ++x)
      if (std::isfinite(row[x])) sum[base + x / bx] += row[x], ++count[base + x / bx];
  }
  cv::Mat out(rows, cols, CV_32F);
  for (int y = 0; y < rows; ++y)
    for (int x = 0; x < cols; ++x) {
      const size_t k = static_cast<size_t>(y) * cols + x;
      out.at<float>(y, x) = count[k] ? static_cast<float>(sum[k] / static_cast<double>(count[k])) : NAN;
    }
  return out;
}

cv::Mat to_grid(const featpipe::npy::Array& a) {
  const auto& s = a.shape;
  float* d = const_cast<float*>(a.data.data());
  if (s.size() == 1) return shrink(cv::Mat(1, static_cast<int>(s[0]), CV_32F, d));
  if (s.size() == 2) {
    // Shrunk before the transpose: a long recording is never copied whole.
    cv::Mat m = shrink(cv::Mat(static_cast<int>(s[0]), static_cast<int>(s[1]), CV_32F, d));
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
  return shrink(grid);
}

// The q-quantile (0..1) of `v` by the nearest rank; reorders `v`.
double quantile(std::vector<float>& v, double q) {
  const size_t k = static_cast<size_t>(std::llround(q * static_cast<double>(v.size() - 1)));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
  return v[k];
}

}  // namespace

// Renders `in` to `out`. `mode` picks the color range: 0 min..max, 1 the
// 1st..99th percentile, 2 [fixed_lo, fixed_hi] (finite, lo < hi: the CLI
// checks --range). On failure returns -1 with a message in `msg`.
extern "C" __attribute__((visibility("default"))) int featpipe_plot_npy_v3(const char* in, const char* out, int mode,
                                                                          double fixed_lo, double fixed_hi, char* msg,
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
    std::vector<float> shown;
    shown.reserve(g.total());
    for (int y = 0; y < g.rows; ++y)
      for (int x = 0; x < g.cols; ++x)
        if (std::isfinite(g.at<float>(y, x))) shown.push_back(g.at<float>(y, x));
    const bool robust = mode == 1;
    double lo = 0, hi = 1;
    if (mode == 2) {
      lo = fixed_lo, hi = fixed_hi;
    } else if (!shown.empty()) {
      lo = robust ? quantile(shown, 0.01) : *std::min_element(shown.begin(), shown.end());
      hi = robust ? quantile(shown, 0.99) : *std::max_element(shown.begin(), shown.end());
    }
    if (!(hi > lo)) hi = lo + std::max(1.0, std::abs(lo) * 1e-6);  // a constant array: one color, still a valid map
    cv::Mat nan_mask = g != g;
    cv::Mat u8;
    g.convertTo(u8, CV_8U, 255.0 / (hi - lo), -lo * 255.0 / (hi - lo));  // saturates outside [lo, hi]
    cv::Mat color;
    cv::applyColorMap(u8, color, cv::COLORMAP_VIRIDIS);
    color.setTo(cv::Scalar(255, 255, 255), nan_mask);
    // Small arrays are enlarged (nearest, so cells stay crisp).
    const double scale = std::max(1.0, std::min(8.0, 640.0 / std::max(color.cols, color.rows)));
    if (scale > 1)
      cv::resize(color, color, cv::Size(), scale, std::max(scale, color.rows < 16 ? 32.0 / color.rows : scale),
                 cv::INTER_NEAREST);
    if (!cv::imwrite(out, color)) throw std::runtime_error(std::string(out) + ": cannot write the image");
    std::snprintf(msg, msglen, "wrote %s (%dx%d, colors over %g .. %g, %s)", out, color.cols, color.rows, lo, hi,
                  mode == 2 ? "as given" : robust ? "1st..99th percentile" : "min..max");
    return 0;
  } catch (const std::exception& e) {
    std::snprintf(msg, msglen, "%s", e.what());
    return -1;
  }
}
