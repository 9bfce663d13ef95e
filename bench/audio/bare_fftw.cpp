// The bound for the log-mel benchmark: a bare FFTW loop over the same
// frames featpipe computes (center reflect framing, Hann window, 512-point
// r2c, power), on samples already in memory (decoding is not timed), no
// mel, no log, no output files. Also times FFTW's planner for n = 512 with
// FFTW_ESTIMATE and FFTW_MEASURE, and the per-frame cost of each plan.
//
//   bench_audio_fftw bench/data/audio_corpus
#include <fftw3.h>
#include <sndfile.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <numbers>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

static double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s CORPUS_DIR [repeat]\n", argv[0]);
    return 2;
  }
  const int repeat = argc > 2 ? std::atoi(argv[2]) : 3;
  std::vector<std::vector<float>> signals;
  std::vector<fs::path> paths;
  for (const auto& e : fs::directory_iterator(argv[1]))
    if (e.path().extension() == ".wav") paths.push_back(e.path());
  std::sort(paths.begin(), paths.end());
  double total_samples = 0;
  for (const auto& p : paths) {
    SF_INFO info{};
    SNDFILE* f = sf_open(p.c_str(), SFM_READ, &info);
    if (!f) return 1;
    std::vector<float> x(static_cast<size_t>(info.frames));
    sf_readf_float(f, x.data(), info.frames);
    sf_close(f);
    total_samples += static_cast<double>(x.size());
    signals.push_back(std::move(x));
  }
  const double audio_s = total_samples / 16000.0;

  const int n_fft = 512, win = 400, hop = 160, pad = n_fft / 2, bins = n_fft / 2 + 1;
  float* in = fftwf_alloc_real(n_fft);
  fftwf_complex* out = fftwf_alloc_complex(bins);
  auto t0 = Clock::now();
  fftwf_plan est = fftwf_plan_dft_r2c_1d(n_fft, in, out, FFTW_ESTIMATE);
  const double plan_estimate = seconds_since(t0);
  t0 = Clock::now();
  fftwf_plan meas = fftwf_plan_dft_r2c_1d(n_fft, in, out, FFTW_MEASURE);
  const double plan_measure = seconds_since(t0);

  std::vector<float> window(n_fft, 0.0f);
  for (int k = 0; k < win; ++k)
    window[(n_fft - win) / 2 + k] = static_cast<float>(0.5 - 0.5 * std::cos(2 * std::numbers::pi * k / win));

  auto run = [&](fftwf_plan plan) {
    double best = 1e30, sink = 0;
    for (int r = 0; r < repeat; ++r) {
      std::vector<float> padded, power;
      auto t = Clock::now();
      for (const auto& x : signals) {
        const int64_t n = static_cast<int64_t>(x.size());
        padded.resize(static_cast<size_t>(n + 2 * pad));
        for (int k = 0; k < pad; ++k) padded[k] = x[pad - k];                  // reflect
        std::copy(x.begin(), x.end(), padded.begin() + pad);
        for (int k = 0; k < pad; ++k) padded[n + pad + k] = x[n - 2 - k];
        const int64_t frames = 1 + n / hop;
        power.resize(static_cast<size_t>(frames * bins));
        for (int64_t t = 0; t < frames; ++t) {
          const float* fr = padded.data() + t * hop;
          for (int k = 0; k < n_fft; ++k) in[k] = fr[k] * window[k];
          fftwf_execute_dft_r2c(plan, in, out);
          float* p = power.data() + t * bins;
          for (int k = 0; k < bins; ++k) p[k] = out[k][0] * out[k][0] + out[k][1] * out[k][1];
        }
        sink += power[0];
      }
      best = std::min(best, seconds_since(t));
    }
    return std::make_pair(best, sink);
  };
  const auto [t_est, s1] = run(est);
  const auto [t_meas, s2] = run(meas);
  std::printf("files %zu audio_seconds %.1f\n", signals.size(), audio_s);
  std::printf("plan_estimate_s %.6f plan_measure_s %.6f\n", plan_estimate, plan_measure);
  std::printf("loop_estimate_s %.4f loop_measure_s %.4f (checksum %g)\n", t_est, t_meas, s1 + s2);
  fftwf_destroy_plan(est);
  fftwf_destroy_plan(meas);
  fftwf_free(in);
  fftwf_free(out);
  return 0;
}
