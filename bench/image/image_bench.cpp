// bench/image: featpipe's image pipelines in-process, one thread (run.sh).
//
//   image_bench decode|preprocess|embed DIR     images/s over DIR/*.jpg
//   image_bench imread DIR                      cv::imread (IMREAD_COLOR) alone, images/s
//   image_bench cnn MODEL.onnx                  cnn.features batch-1 forward, ms
//
// Pipelines come from bench/image/*.yaml; outputs are computed, not saved.
#include <featpipe/featpipe.hpp>

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

static std::vector<std::string> jpegs(const fs::path& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().extension() == ".jpg") out.push_back(e.path().string());
  std::sort(out.begin(), out.end());
  return out;
}

static double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: image_bench decode|preprocess|embed|imread DIR | cnn MODEL.onnx\n");
    return 2;
  }
  cv::setNumThreads(1);  // one thread, for the DNN too (the plugins share this OpenCV)
  const std::string mode = argv[1];
  const fs::path here = fs::path(FEATPIPE_BENCH_DIR);
  try {
    if (mode == "cnn") {
      std::string yaml = "featpipe: 1\nname: cnn\nstages:\n  - use: cnn.features\n    with: {model: '" +
                         std::string(argv[2]) + "', input_size: [224, 224]}\n";
      featpipe::LoadOptions opts;
      opts.input = featpipe::sdk::Spec({{"channel", 3}, {"height", 224}, {"width", 224}});
      auto session = featpipe::Pipeline::parse(yaml, "cnn.yaml", ".", opts)->session();
      featpipe::Tensor x;
      x.axes = {"channel", "height", "width"};
      x.shape = {3, 224, 224};
      x.data.assign(3 * 224 * 224, 0.1f);
      for (int k = 0; k < 3; ++k) session->run(x);
      const int n = 20;
      auto t = Clock::now();
      for (int k = 0; k < n; ++k) session->run(x);
      std::printf("featpipe cnn.features (OpenCV DNN) forward: %.1f ms\n", seconds_since(t) / n * 1e3);
      return 0;
    }
    auto files = jpegs(argv[2]);
    if (files.empty()) throw std::runtime_error("no .jpg files in " + std::string(argv[2]));
    if (mode == "imread") {
      auto t = Clock::now();
      for (const auto& f : files) cv::imread(f, cv::IMREAD_COLOR);
      double dt = seconds_since(t);
      std::printf("cv::imread decode: %.1f images/s (%zu images, %.2f s)\n", files.size() / dt, files.size(), dt);
      return 0;
    }
    std::string yaml;
    if (mode == "decode") yaml = (here / "decode.yaml").string();
    else if (mode == "preprocess") yaml = (here / "preprocess.yaml").string();
    else if (mode == "embed") yaml = (here / "embedding-mobilenet.yaml").string();
    else throw std::runtime_error("unknown mode " + mode);
    auto session = featpipe::Pipeline::load(yaml)->session();
    session->run_file(files[0]);  // warm-up (model planning)
    auto t = Clock::now();
    for (const auto& f : files) session->run_file(f);
    double dt = seconds_since(t);
    std::printf("featpipe %s: %.1f images/s (%zu images, %.2f s)\n", mode.c_str(), files.size() / dt, files.size(), dt);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "image_bench: %s\n", e.what());
    return 1;
  }
  return 0;
}
