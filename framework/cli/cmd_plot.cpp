// featpipe plot FEATURES.npy -o IMAGE.png: a feature array as a color image.
// 2-D [frame, bin]: time runs left to right, low bins at the bottom (as a
// spectrogram is read). 3-D [channel, height, width]: channels tiled in a
// grid. 1-D: a strip. Colors: viridis over the array's finite range.
#include "commands.hpp"

#include <featpipe/npy.hpp>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <cmath>
#include <iostream>

namespace featpipe::cli {

namespace {

cv::Mat to_grid(const npy::Array& a) {
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

Action add_plot(CLI::App& app) {
  auto in = std::make_shared<std::string>();
  auto out = std::make_shared<std::string>();
  CLI::App* c = app.add_subcommand("plot", "render a feature array (.npy) as a color image");
  c->add_option("features", *in, "a .npy file written by featpipe run")->required();
  c->add_option("-o,--output", *out, "image file to write (.png)")->required();
  return [in, out] {
    npy::Array a;
    try {
      a = npy::read(*in);
    } catch (const std::exception& e) {
      throw Error(*in + ": " + e.what());
    }
    if (a.shape.empty() || a.data.empty()) throw Error(*in + ": nothing to plot (empty or scalar array)");
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
    if (scale > 1) cv::resize(color, color, cv::Size(), scale, std::max(scale, color.rows < 16 ? 32.0 / color.rows : scale), cv::INTER_NEAREST);
    if (!cv::imwrite(*out, color)) throw Error(*out + ": cannot write the image");
    std::cerr << "featpipe: wrote " << *out << " (" << color.cols << "x" << color.rows << ", values " << lo << " .. " << hi << ")\n";
    return 0;
  };
}

}  // namespace featpipe::cli
