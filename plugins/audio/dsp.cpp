// Shared DSP pieces of the audio plugin (see dsp.hpp).
#include "dsp.hpp"
#include "windows.hpp"

#include <cmath>
#include <cstdlib>
#include <map>
#include <mutex>
#include <numbers>

namespace featpipe::audio {

using sdk::check;

// ------------------------------------------------------------------ windows

std::string canonical_window(std::string_view name) {
  if (name == "hanning") return "hann";
  if (name == "rect") return "rectangular";
  for (std::string_view known : {"hann", "hamming", "povey", "blackman", "rectangular", "sine"})
    if (name == known) return std::string(name);
  throw sdk::Error(sdk::cat("unknown window '", name, "'; the audio stages take ", kWindowChoices), "window");
}

std::vector<double> make_window(const std::string& name, int64_t length, bool periodic) {
  const std::string kind = canonical_window(name);
  std::vector<double> w(static_cast<size_t>(length), 1.0);
  if (kind == "rectangular" || length == 1) return w;  // torch: a 1-sample window is [1]
  const double m = periodic ? static_cast<double>(length) : static_cast<double>(length - 1);
  const double two_pi = 2.0 * std::numbers::pi;
  for (int64_t n = 0; n < length; ++n) {
    const double c = std::cos(two_pi * static_cast<double>(n) / m);
    double v;
    if (kind == "sine") {
      v = std::sin(std::numbers::pi * static_cast<double>(n) / m);
    } else if (kind == "hann" || kind == "povey") {
      v = 0.5 - 0.5 * c;
      if (kind == "povey") v = std::pow(v, 0.85);
    } else if (kind == "hamming") {
      v = 0.54 - 0.46 * c;
    } else {  // blackman
      v = 0.42 - 0.5 * c + 0.08 * std::cos(2.0 * two_pi * static_cast<double>(n) / m);
    }
    w[static_cast<size_t>(n)] = v;
  }
  return w;
}

std::vector<double> kaldi_blackman(int64_t length, double coeff) {
  std::vector<double> w(static_cast<size_t>(length));
  const double a = 2.0 * std::numbers::pi / static_cast<double>(length - 1);
  for (int64_t n = 0; n < length; ++n)
    w[static_cast<size_t>(n)] = coeff - 0.5 * std::cos(a * n) + (0.5 - coeff) * std::cos(2.0 * a * n);
  return w;
}

// ------------------------------------------------------------------ FFT

namespace {

// Planner flags: FFTW_ESTIMATE unless FEATPIPE_FFTW_MEASURE=1. Measured on
// 512-point r2c (bench/audio/README.md): a MEASURE plan costs 70-140 ms of
// start-up and runs ~8% faster, which pays off only after ~10 hours of
// audio in one process.
unsigned planner_flags() {
  const char* env = std::getenv("FEATPIPE_FFTW_MEASURE");
  return (env && env[0] == '1') ? FFTW_MEASURE : FFTW_ESTIMATE;
}

std::mutex& plan_mutex() {
  static std::mutex m;
  return m;
}

// One plan per size for the life of the process (plans are read-only once
// made, and fftwf_execute_dft_r2c on them is thread-safe).
fftwf_plan shared_plan(int64_t n) {
  std::lock_guard<std::mutex> lock(plan_mutex());
  static std::map<int64_t, fftwf_plan> plans;
  auto it = plans.find(n);
  if (it != plans.end()) return it->second;
  float* in = fftwf_alloc_real(static_cast<size_t>(n));
  fftwf_complex* out = fftwf_alloc_complex(static_cast<size_t>(n / 2 + 1));
  check(in && out, nullptr, "out of memory planning an FFT of size ", n);
  fftwf_plan p = fftwf_plan_dft_r2c_1d(static_cast<int>(n), in, out, planner_flags());
  fftwf_free(in);
  fftwf_free(out);
  check(p != nullptr, nullptr, "FFTW could not plan a real FFT of size ", n);
  plans.emplace(n, p);
  return p;
}

}  // namespace

RealFft::RealFft(int64_t n) : n_(n), plan_(shared_plan(n)) {
  in_ = fftwf_alloc_real(static_cast<size_t>(n));
  out_ = fftwf_alloc_complex(static_cast<size_t>(n / 2 + 1));
  if (!in_ || !out_) {
    fftwf_free(in_);
    fftwf_free(out_);
    throw std::bad_alloc();
  }
  std::fill(in_, in_ + n, 0.0f);
}

RealFft::~RealFft() {
  fftwf_free(in_);
  fftwf_free(out_);
}

// ------------------------------------------------------------------ framer

void Framer::reset() {
  started_ = false;
  n_ = next_ = base_ = 0;
  head_.clear();
  buf_.clear();
  tail_.clear();
}

int64_t Framer::total_frames(int64_t n) const {
  if (n <= 0) return 0;
  if (c_.count == FrameCount::kaldi_nosnip) return (n + c_.hop / 2) / c_.hop;
  const int64_t padded = c_.left + n + c_.right;
  return padded < c_.length ? 0 : 1 + (padded - c_.length) / c_.hop;
}

int64_t Framer::left_needed() const {
  if (c_.left <= 0) return -c_.left;  // samples to skip
  switch (c_.pad) {
    case EdgePad::reflect: return c_.left + 1;
    case EdgePad::symmetric: return c_.left;
    case EdgePad::zeros: return 0;
  }
  return 0;
}

void Framer::keep_tail(const float* x, int64_t n) {
  const size_t keep = static_cast<size_t>(c_.length + 2);
  tail_.insert(tail_.end(), x + std::max<int64_t>(0, n - static_cast<int64_t>(keep)), x + n);
  if (tail_.size() > 4 * keep) tail_.erase(tail_.begin(), tail_.end() - static_cast<std::ptrdiff_t>(keep));
}

void Framer::start_from_head() {
  buf_.clear();
  if (c_.left <= 0) {
    const size_t skip = static_cast<size_t>(-c_.left);
    if (head_.size() > skip) buf_.assign(head_.begin() + static_cast<std::ptrdiff_t>(skip), head_.end());
  } else {
    buf_.reserve(static_cast<size_t>(c_.left) + head_.size());
    for (int64_t k = 0; k < c_.left; ++k) {
      // padded position k holds x[left - k] (reflect), x[left - 1 - k]
      // (symmetric) or 0.
      switch (c_.pad) {
        case EdgePad::reflect: buf_.push_back(head_[static_cast<size_t>(c_.left - k)]); break;
        case EdgePad::symmetric: buf_.push_back(head_[static_cast<size_t>(c_.left - 1 - k)]); break;
        case EdgePad::zeros: buf_.push_back(0.0f); break;
      }
    }
    buf_.insert(buf_.end(), head_.begin(), head_.end());
  }
  head_.clear();
  head_.shrink_to_fit();
  base_ = 0;
  started_ = true;
}

int64_t Framer::finish() {
  check(n_ > 0, nullptr, "no samples: the input is empty");
  const int64_t total = total_frames(n_);
  check(total > 0, nullptr, "input of ", n_, " samples is shorter than one frame of ", c_.length, " samples");
  if (!started_) {
    const int64_t need = left_needed();
    check(n_ >= need || c_.left <= 0, nullptr, "input of ", n_, " samples is too short for ",
          c_.pad == EdgePad::reflect ? "reflect" : "symmetric", " padding of ", c_.left,
          " samples (needs at least ", need, ")");
    start_from_head();
  }
  // Right padding: as many samples as the last frame needs beyond the data.
  const int64_t data_end = c_.left + n_;  // padded position after x[n-1]
  const int64_t need_right = std::max<int64_t>(0, (total - 1) * c_.hop + c_.length - data_end);
  if (need_right > 0) {
    const int64_t avail = static_cast<int64_t>(tail_.size());
    const float* t = tail_.data();
    // x[n-1-j] is t[avail-1-j]
    if (c_.pad == EdgePad::reflect)
      check(need_right + 1 <= n_, nullptr, "input of ", n_, " samples is too short for reflect padding of ",
            need_right, " samples (needs more than ", need_right, ")");
    if (c_.pad == EdgePad::symmetric)
      check(need_right <= n_, nullptr, "input of ", n_, " samples is too short for symmetric padding of ",
            need_right, " samples");
    for (int64_t j = 0; j < need_right; ++j) {
      switch (c_.pad) {
        case EdgePad::reflect: buf_.push_back(t[avail - 2 - j]); break;
        case EdgePad::symmetric: buf_.push_back(t[avail - 1 - j]); break;
        case EdgePad::zeros: buf_.push_back(0.0f); break;
      }
    }
  }
  return total;
}

// ------------------------------------------------------------------ bands

void Bands::assign(const std::vector<double>& dense, int64_t n_out, int64_t n_in) {
  n_in_ = n_in;
  start_.assign(static_cast<size_t>(n_out), 0);
  len_.assign(static_cast<size_t>(n_out), 0);
  w_.clear();
  for (int64_t k = 0; k < n_out; ++k) {
    const double* row = dense.data() + k * n_in;
    int64_t lo = 0, hi = n_in;
    while (lo < n_in && row[lo] == 0.0) ++lo;
    while (hi > lo && row[hi - 1] == 0.0) --hi;
    start_[static_cast<size_t>(k)] = static_cast<int32_t>(lo < n_in ? lo : 0);
    len_[static_cast<size_t>(k)] = static_cast<int32_t>(hi - lo);
    for (int64_t j = lo; j < hi; ++j) w_.push_back(static_cast<float>(row[j]));
  }
}

namespace {

double hz_to_mel(double f, bool slaney) {
  if (!slaney) return 2595.0 * std::log10(1.0 + f / 700.0);
  const double f_sp = 200.0 / 3.0, min_log_hz = 1000.0, min_log_mel = min_log_hz / f_sp;
  const double logstep = std::log(6.4) / 27.0;
  if (f >= min_log_hz) return min_log_mel + std::log(f / min_log_hz) / logstep;
  return f / f_sp;
}

double mel_to_hz(double m, bool slaney) {
  if (!slaney) return 700.0 * (std::pow(10.0, m / 2595.0) - 1.0);
  const double f_sp = 200.0 / 3.0, min_log_hz = 1000.0, min_log_mel = min_log_hz / f_sp;
  const double logstep = std::log(6.4) / 27.0;
  if (m >= min_log_mel) return min_log_hz * std::exp(logstep * (m - min_log_mel));
  return f_sp * m;
}

// torch.linspace(a, b, n) in double: a + k*step for the first half, b -
// (n-1-k)*step for the second (as torch computes it).
std::vector<double> linspace(double a, double b, int64_t n) {
  std::vector<double> v(static_cast<size_t>(n));
  if (n == 1) { v[0] = a; return v; }
  const double step = (b - a) / static_cast<double>(n - 1);
  const int64_t half = n / 2;
  for (int64_t k = 0; k < n; ++k)
    v[static_cast<size_t>(k)] = k < half ? a + step * k : b - step * (n - 1 - k);
  return v;
}

}  // namespace

std::vector<double> torch_mel_fbanks(int64_t n_freqs, double f_min, double f_max, int64_t n_mels,
                                     double sample_rate, bool slaney_norm, bool slaney_scale) {
  const std::vector<double> freqs = linspace(0.0, std::floor(sample_rate / 2.0), n_freqs);
  const std::vector<double> m_pts =
      linspace(hz_to_mel(f_min, slaney_scale), hz_to_mel(f_max, slaney_scale), n_mels + 2);
  std::vector<double> f_pts(m_pts.size());
  for (size_t k = 0; k < m_pts.size(); ++k) f_pts[k] = mel_to_hz(m_pts[k], slaney_scale);
  std::vector<double> fb(static_cast<size_t>(n_mels * n_freqs), 0.0);
  for (int64_t m = 0; m < n_mels; ++m) {
    const double lo = f_pts[m], mid = f_pts[m + 1], hi = f_pts[m + 2];
    const double enorm = slaney_norm ? 2.0 / (hi - lo) : 1.0;
    for (int64_t k = 0; k < n_freqs; ++k) {
      const double f = freqs[static_cast<size_t>(k)];
      const double down = (f - lo) / (mid - lo);  // -slopes[m] / f_diff[m]
      const double up = (hi - f) / (hi - mid);
      const double v = std::max(0.0, std::min(down, up));
      fb[static_cast<size_t>(m * n_freqs + k)] = v * enorm;
    }
  }
  return fb;
}

void check_finite(const float* x, int64_t n, const char* what) {
  const int64_t k = sdk::first_nonfinite(x, n);
  if (k >= 0) throw sdk::Error(sdk::cat(what, " contains ", std::isnan(x[k]) ? "NaN" : "infinite", " sample at index ", k));
}

}  // namespace featpipe::audio
