// Class prototypes: mean feature vectors of reference recordings/images.
#include "capture.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <iostream>

namespace fs = std::filesystem;

namespace capture {

std::atomic<bool> g_stop{false};

void Prototypes::normalize(std::vector<float>& v) {
  double ss = 0;
  for (float x : v) ss += static_cast<double>(x) * x;
  const double n = std::sqrt(ss);
  if (n > 1e-12)
    for (float& x : v) x = static_cast<float>(x / n);
}

std::vector<float> Prototypes::summary(const featpipe::Tensor& t, bool frames_axis0) {
  if (!frames_axis0 || t.shape.size() < 2) return t.data;
  const size_t frames = static_cast<size_t>(t.shape[0]);
  const size_t width = frames ? t.data.size() / frames : 0;
  std::vector<double> sum(width, 0.0);
  for (size_t f = 0; f < frames; ++f)
    for (size_t k = 0; k < width; ++k) sum[k] += t.data[f * width + k];
  std::vector<float> mean(width);
  for (size_t k = 0; k < width; ++k) mean[k] = static_cast<float>(sum[k] / static_cast<double>(frames));
  return mean;
}

void Prototypes::build(const featpipe::Pipeline& pipe, const std::vector<std::string>& paths) {
  // The files: given directly, or the readable ones in a folder (sorted).
  const std::vector<std::string> exts = pipe.extensions();
  std::vector<fs::path> files;
  for (const std::string& p : paths) {
    if (!fs::is_directory(p)) {
      files.emplace_back(p);
      continue;
    }
    std::vector<fs::path> found;
    for (const auto& e : fs::directory_iterator(p)) {
      std::string ext = e.path().extension().string();
      if (ext.empty() || !e.is_regular_file()) continue;
      std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
      if (std::find(exts.begin(), exts.end(), ext.substr(1)) != exts.end()) found.push_back(e.path());
    }
    std::sort(found.begin(), found.end());
    files.insert(files.end(), found.begin(), found.end());
  }
  if (files.empty()) throw featpipe::Error("no reference files for the class prototypes");

  auto session = pipe.session();
  const bool frames = pipe.steps().back().output.stream_axis == 0;
  for (const fs::path& f : files) {
    featpipe::Tensor t = session->run_file(f.string());  // throws naming the file
    std::vector<float> v = summary(t, frames);
    if (dim_ == 0) dim_ = v.size();
    if (v.size() != dim_)
      throw featpipe::Error(f.string() + ": features of " + std::to_string(v.size()) + " values, the other classes have " +
                            std::to_string(dim_));
    normalize(v);
    labels_.push_back(f.stem().string());
    vectors_.push_back(std::move(v));
  }
}

Prototypes::Match Prototypes::nearest(std::vector<float> q) const {
  Match best;
  if (q.size() != dim_) return best;
  normalize(q);
  for (size_t c = 0; c < vectors_.size(); ++c) {
    double dot = 0;
    for (size_t k = 0; k < dim_; ++k) dot += static_cast<double>(q[k]) * vectors_[c][k];
    if (best.index < 0 || dot > best.cosine) best = {static_cast<int>(c), static_cast<float>(dot)};
  }
  return best;
}

}  // namespace capture
