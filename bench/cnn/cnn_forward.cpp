// cnn_forward MODEL [HEIGHT WIDTH [RUNS]]: cnn.features' batch-1 forward
// pass through the engine, as a pipeline runs it (Session::run on a
// [3, HEIGHT, WIDTH] tensor, so the input and output copies count too).
// Prints one line: "<median CPU ms> <min wall ms> <runs>" per pass after
// warm-up: CPU time of the process, as on a shared machine wall time also
// counts the time other processes held the core. Threads: the backend's, as FEATPIPE_THREADS sets them (forward.py
// sets 1). ONNX models run with OpenCV DNN, TorchScript with libtorch.
#include <featpipe/featpipe.hpp>

#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

static double cpu_ms() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec * 1e-6;
}

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: cnn_forward MODEL [HEIGHT WIDTH [RUNS]]\n");
    return 2;
  }
  const int h = argc > 3 ? std::stoi(argv[2]) : 224, w = argc > 3 ? std::stoi(argv[3]) : 224;
  const int runs = argc > 4 ? std::stoi(argv[4]) : 30;
  try {
    const std::string yaml = "featpipe: 1\nname: cnn\nstages:\n  - use: cnn.features\n    with: {model: '" +
                             std::string(argv[1]) + "', input_size: [" + std::to_string(h) + ", " +
                             std::to_string(w) + "]}\n";
    featpipe::LoadOptions opts;
    opts.input = featpipe::TensorSpec{{"channel", "height", "width"}, {3, h, w}};
    auto session = featpipe::Pipeline::parse(yaml, "cnn.yaml", ".", opts)->session();
    featpipe::Tensor x;
    x.axes = {"channel", "height", "width"};
    x.shape = {3, h, w};
    x.data.resize(static_cast<size_t>(3) * h * w);
    for (size_t k = 0; k < x.data.size(); ++k) x.data[k] = static_cast<float>((k * 7919) % 1000) / 1000.0f - 0.5f;
    for (int k = 0; k < 3; ++k) session->run(x);  // warm-up, as forward.py does for torch
    std::vector<double> cpu, wall;
    for (int k = 0; k < runs; ++k) {
      const double c0 = cpu_ms();
      const auto t0 = std::chrono::steady_clock::now();
      session->run(x);
      wall.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
      cpu.push_back(cpu_ms() - c0);
    }
    std::sort(cpu.begin(), cpu.end());
    std::printf("%.3f %.3f %d\n", cpu[cpu.size() / 2], *std::min_element(wall.begin(), wall.end()), runs);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "cnn_forward: %s\n", e.what());
    return 1;
  }
  return 0;
}
