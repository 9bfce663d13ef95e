// featpipe's log-mel in process, through the embedding API: the loop over
// the corpus timed (Pipeline::load and process start-up not), no .npy
// writing — the like-for-like figure against torch_logmel.py's compute and
// the bare FFTW loop.
//
//   bench_audio_inproc bench/audio/logmel.yaml bench/data/audio_corpus [repeat]
#include <featpipe/featpipe.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <vector>

namespace fs = std::filesystem;

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s PIPELINE CORPUS_DIR [repeat]\n", argv[0]);
    return 2;
  }
  const int repeat = argc > 3 ? std::atoi(argv[3]) : 3;
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(argv[2]))
    if (e.path().extension() == ".wav") files.push_back(e.path());
  std::sort(files.begin(), files.end());
  auto pipe = featpipe::Pipeline::load(argv[1]);
  auto session = pipe->session();
  double best = 1e30, frames = 0;
  for (int r = 0; r < repeat; ++r) {
    frames = 0;
    const auto t0 = std::chrono::steady_clock::now();
    for (const auto& f : files) frames += static_cast<double>(session->run_file(f.string()).shape[0]);
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  std::printf("files %zu frames %.0f loop_s %.4f\n", files.size(), frames, best);
  return 0;
}
