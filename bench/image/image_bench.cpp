// bench/image: featpipe's image pipelines in-process, one thread (run.sh).
//
//   image_bench decode|preprocess|embed DIR     images/s over DIR/*.jpg
//   image_bench embed DIR PIPELINE.yaml         the same with another embedding pipeline (bench/cnn)
//   image_bench imread|turbojpeg DIR            cv::imread (BGR) / TurboJPEG (RGB) decode alone, images/s
//   image_bench cnn MODEL.onnx                  cnn.features batch-1 forward, ms
//   image_bench layers MODEL.onnx               OpenCV DNN time per layer kind, ms
//
// Pipelines come from bench/image/*.yaml; outputs are computed, not saved.
#include <featpipe/featpipe.hpp>

#include <opencv2/core.hpp>
#include <opencv2/dnn.hpp>
#include <opencv2/imgcodecs.hpp>
#include <turbojpeg.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <iterator>
#include <string>
#include <ctime>
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

// CPU seconds of this process: on a shared machine, wall time also counts
// the time other processes held the core.
static double cpu_now() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

struct Timer {
  Timer() = default;
  Clock::time_point wall = Clock::now();
  double cpu = cpu_now();
  double wall_s() const { return std::chrono::duration<double>(Clock::now() - wall).count(); }
  double cpu_s() const { return cpu_now() - cpu; }
};

// Best of 3 passes over the files (the machine is shared).
template <class F>
static void timed(const char* what, size_t n, F&& pass) {
  double cpu = 1e9, wall = 1e9;
  for (int round = 0; round < 3; ++round) {
    Timer t;
    pass();
    cpu = std::min(cpu, t.cpu_s());
    wall = std::min(wall, t.wall_s());
  }
  std::printf("%s: %.1f images/s CPU (%.1f wall; %zu images)\n", what, n / cpu, n / wall, n);
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
    if (mode == "layers") {
      // Where OpenCV DNN spends a forward pass, by layer kind (getPerfProfile).
      auto net = cv::dnn::readNetFromONNX(argv[2]);
      cv::Mat in(std::vector<int>{1, 3, 224, 224}, CV_32F, cv::Scalar(0.1));
      for (int k = 0; k < 3; ++k) {
        net.setInput(in);
        net.forward();
      }
      std::vector<double> t, sum;
      const int n = 10;
      for (int k = 0; k < n; ++k) {
        net.setInput(in);
        net.forward();
        net.getPerfProfile(t);
        sum.resize(t.size());
        for (size_t j = 0; j < t.size(); ++j) sum[j] += t[j];
      }
      std::map<std::string, std::pair<int, double>> kinds;
      double total = 0;
      for (size_t j = 0; j < sum.size(); ++j) {
        auto l = net.getLayer(static_cast<int>(j) + 1);
        std::string kind = l->type;
        if (kind == "Convolution" && !l->blobs.empty())
          kind += l->blobs[0].size[1] == 1 ? " depthwise" : l->blobs[0].size[2] == 1 ? " 1x1" : " kxk";
        const double ms = sum[j] * 1e3 / cv::getTickFrequency() / n;
        kinds[kind].first++;
        kinds[kind].second += ms;
        total += ms;
      }
      std::printf("OpenCV DNN %s, per layer kind:", fs::path(argv[2]).stem().c_str());
      for (auto& [kind, v] : kinds)
        if (v.second >= 0.05) std::printf(" %s (%d) %.1f ms;", kind.c_str(), v.first, v.second);
      std::printf(" total %.1f ms\n", total);
      return 0;
    }
    if (mode == "cnn") {
      std::string yaml = "featpipe: 1\nname: cnn\nstages:\n  - use: cnn.features\n    with: {model: '" +
                         std::string(argv[2]) + "', input_size: [224, 224]}\n";
      featpipe::LoadOptions opts;
      opts.input = featpipe::TensorSpec{{"channel", "height", "width"}, {3, 224, 224}};
      auto session = featpipe::Pipeline::parse(yaml, "cnn.yaml", ".", opts)->session();
      featpipe::Tensor x;
      x.axes = {"channel", "height", "width"};
      x.shape = {3, 224, 224};
      x.data.assign(3 * 224 * 224, 0.1f);
      for (int k = 0; k < 3; ++k) session->run(x);
      const int n = 10;
      double cpu = 1e9, wall = 1e9;
      for (int round = 0; round < 3; ++round) {  // best of 3: the machine is shared
        Timer t;
        for (int k = 0; k < n; ++k) session->run(x);
        cpu = std::min(cpu, t.cpu_s() / n);
        wall = std::min(wall, t.wall_s() / n);
      }
      std::printf("featpipe cnn.features (OpenCV DNN) %s forward: %.1f ms CPU (%.1f ms wall)\n",
                  fs::path(argv[2]).stem().c_str(), cpu * 1e3, wall * 1e3);
      return 0;
    }
    auto files = jpegs(argv[2]);
    if (files.empty()) throw std::runtime_error("no .jpg files in " + std::string(argv[2]));
    if (mode == "turbojpeg") {
      // libjpeg-turbo's own API to packed RGB (what image.decode uses).
      tjhandle h = tjInitDecompress();
      std::vector<unsigned char> bytes, rgb;
      timed("TurboJPEG decode", files.size(), [&] {
      for (const auto& f : files) {
        std::ifstream in(f, std::ios::binary);
        bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
        int w, ht, ss, cs;
        tjDecompressHeader3(h, bytes.data(), bytes.size(), &w, &ht, &ss, &cs);
        rgb.resize(static_cast<size_t>(w) * ht * 3);
        if (tjDecompress2(h, bytes.data(), bytes.size(), rgb.data(), w, 0, ht, TJPF_RGB, 0) != 0)
          throw std::runtime_error(tjGetErrorStr2(h));
      }
      });
      tjDestroy(h);
      return 0;
    }
    if (mode == "imread") {
      timed("cv::imread decode", files.size(), [&] {
        for (const auto& f : files) cv::imread(f, cv::IMREAD_COLOR);
      });
      return 0;
    }
    std::string yaml;
    if (mode == "decode") yaml = (here / "decode.yaml").string();
    else if (mode == "preprocess") yaml = (here / "preprocess.yaml").string();
    else if (mode == "embed") yaml = argc > 3 ? std::string(argv[3]) : (here / "embedding-mobilenet.yaml").string();
    else throw std::runtime_error("unknown mode " + mode);
    auto session = featpipe::Pipeline::load(yaml)->session();
    session->run_file(files[0]);  // warm-up (model planning)
    timed(("featpipe " + mode + (argc > 3 ? " " + fs::path(argv[3]).stem().string() : "")).c_str(), files.size(), [&] {
      for (const auto& f : files) session->run_file(f);
    });
  } catch (const std::exception& e) {
    std::fprintf(stderr, "image_bench: %s\n", e.what());
    return 1;
  }
  return 0;
}
