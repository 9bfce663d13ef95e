// Shared DSP pieces of the audio plugin: windows, the FFTW plan cache, an
// incremental framer (torch.stft centering and Kaldi's edge rules), and
// sparse band matrices for mel filterbanks.
//
// Everything that moves along time is written incrementally: a framer fed
// the whole signal in one push produces exactly the frames (bit for bit)
// it produces when fed the same samples in chunks of any size.
#pragma once

#include <featpipe/sdk.hpp>

#include <fftw3.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace featpipe::audio {

// ------------------------------------------------------------------ windows

// A window of `length` samples, computed in double, as torch computes
// hann/hamming/blackman_window(length, periodic). "povey" is hann^0.85
// (Kaldi's), "rectangular" all ones; any name of windows.hpp is taken.
// Kaldi's own blackman (with its coefficient) is `kaldi_blackman`.
std::vector<double> make_window(const std::string& name, int64_t length, bool periodic);
std::vector<double> kaldi_blackman(int64_t length, double coeff);

// ------------------------------------------------------------------ FFT

// A forward real FFT of size n in single precision. Plans are made once per
// size under a process-wide mutex (FFTW's planner is not thread-safe) and
// shared by every instance; each instance executes the shared plan on its
// own aligned buffers through the thread-safe new-array interface.
class RealFft {
 public:
  explicit RealFft(int64_t n);
  ~RealFft();
  RealFft(const RealFft&) = delete;
  RealFft& operator=(const RealFft&) = delete;

  int64_t size() const { return n_; }
  float* input() { return in_; }               // n samples, aligned
  const fftwf_complex* output() const { return out_; }  // n/2+1 bins
  void run() { fftwf_execute_dft_r2c(plan_, in_, out_); }

 private:
  int64_t n_;
  fftwf_plan plan_;
  float* in_;
  fftwf_complex* out_;
};

// ------------------------------------------------------------------ framer

// How a framer pads the signal's edges.
enum class EdgePad {
  reflect,    // torch "reflect": ... x2 x1 | x0 x1 x2 ... (edge not repeated)
  symmetric,  // Kaldi: ... x1 x0 | x0 x1 ... (edge repeated)
  zeros,      // torch "constant"
};

// Frame count rule.
enum class FrameCount {
  fit,         // frames that fit in left pad + signal + `right` pad (torch)
  kaldi_nosnip // (n + hop/2) / hop, Kaldi's snip_edges=false
};

struct FramerConfig {
  int64_t length = 0;  // samples per frame
  int64_t hop = 1;     // samples between frame starts
  int64_t left = 0;    // padding before x[0]; negative: samples of x skipped
  int64_t right = 0;   // padding after the last sample (FrameCount::fit)
  EdgePad pad = EdgePad::zeros;
  FrameCount count = FrameCount::fit;
};

// Cuts one channel's samples into frames incrementally. push() hands every
// frame that is complete to `on_frame(const float* frame)` (a pointer to
// `length` contiguous samples, valid during the call); flush() adds the
// end padding and hands over the rest. Errors (input too short to pad or
// to hold one frame) are thrown from flush() as sdk::Error.
class Framer {
 public:
  void configure(const FramerConfig& c) { c_ = c; reset(); }
  const FramerConfig& config() const { return c_; }
  void reset();

  // Frames the whole input of n samples yields (0 when too short).
  int64_t total_frames(int64_t n) const;

  template <class F>
  int64_t push(const float* x, int64_t n, F&& on_frame) {
    if (n <= 0) return 0;
    n_ += n;
    keep_tail(x, n);
    if (!started_) {  // hold only what the left padding needs
      const int64_t take = std::clamp<int64_t>(left_needed() - static_cast<int64_t>(head_.size()), 0, n);
      head_.insert(head_.end(), x, x + take);
      x += take;
      n -= take;
      if (static_cast<int64_t>(head_.size()) < left_needed()) return 0;
      start_from_head();
    }
    const int64_t limit = total_frames(n_);
    const int64_t hop = c_.hop, len = c_.length;
    const int64_t pos0 = base_ + static_cast<int64_t>(buf_.size());  // padded position of x[0]
    // Frames that begin in the held samples: complete them with x's first.
    buf_.insert(buf_.end(), x, x + std::min(n, len));
    int64_t made = 0;
    while (next_ < limit && next_ * hop < pos0 && next_ * hop + len <= base_ + static_cast<int64_t>(buf_.size())) {
      on_frame(buf_.data() + (next_ * hop - base_));
      ++next_;
      ++made;
    }
    // Frames inside x: straight from the caller's buffer, no copy.
    while (next_ < limit && next_ * hop >= pos0 && next_ * hop + len <= pos0 + n) {
      on_frame(x + (next_ * hop - pos0));
      ++next_;
      ++made;
    }
    // Hold what later frames need.
    const int64_t keep = std::min(next_ * hop, pos0 + n);
    if (keep >= pos0) {
      buf_.assign(x + (keep - pos0), x + n);
    } else {
      buf_.resize(static_cast<size_t>(pos0 - base_));
      buf_.erase(buf_.begin(), buf_.begin() + (keep - base_));
      buf_.insert(buf_.end(), x, x + n);
    }
    base_ = keep;
    return made;
  }

  template <class F>
  int64_t flush(F&& on_frame) {
    int64_t total = finish();
    return emit(total, on_frame);
  }

  int64_t samples_seen() const { return n_; }

 private:
  int64_t left_needed() const;
  void keep_tail(const float* x, int64_t n);
  void start_from_head();
  int64_t finish();  // checks lengths, appends the right padding

  template <class F>
  int64_t emit(int64_t limit, F& on_frame) {
    int64_t made = 0;
    const int64_t end = base_ + static_cast<int64_t>(buf_.size());
    while (next_ < limit && next_ * c_.hop + c_.length <= end) {
      on_frame(buf_.data() + (next_ * c_.hop - base_));
      ++next_;
      ++made;
    }
    // Drop samples no later frame needs.
    int64_t keep_from = std::min(next_ * c_.hop, end);
    if (keep_from > base_) {
      buf_.erase(buf_.begin(), buf_.begin() + (keep_from - base_));
      base_ = keep_from;
    }
    return made;
  }

  FramerConfig c_;
  bool started_ = false;
  int64_t n_ = 0;      // input samples seen
  int64_t next_ = 0;   // next frame index
  int64_t base_ = 0;   // padded-stream position of buf_[0]
  std::vector<float> head_;  // input held until the left padding is known
  std::vector<float> buf_;   // padded stream from base_
  std::vector<float> tail_;  // the last input samples (for the right pad)
};

// ------------------------------------------------------------------ bands

// A sparse band matrix: output k = sum_j w[k][j] * x[start[k] + j]. Mel
// filterbanks are triangles a few bins wide, so applying them this way
// costs a small fraction of a dense product.
class Bands {
 public:
  // From a dense row-major [n_out, n_in] matrix; exact zeros are dropped.
  void assign(const std::vector<double>& dense, int64_t n_out, int64_t n_in);
  int64_t outputs() const { return static_cast<int64_t>(start_.size()); }
  int64_t inputs() const { return n_in_; }
  // One row (the scalar path).
  void apply(const float* x, float* y) const;
  // `rows` inputs (stride in_stride) to `rows` outputs (stride out_stride),
  // 16 (AVX-512) or 8 (AVX2) rows per block, transposed so that one SIMD
  // register accumulates a band for the whole block (bands.cpp). Every row
  // goes through the same float operations in the same order on every
  // path (no fused multiply-add), so a row's result does not depend on how
  // rows are grouped into blocks or pushes, nor on the CPU.
  void apply_rows(const float* x, float* y, int64_t rows, int64_t in_stride, int64_t out_stride) const;

 private:
  int64_t n_in_ = 0;
  std::vector<int32_t> start_, len_;
  std::vector<float> w_;
};

// torchaudio.functional.melscale_fbanks, transposed to [n_mels, n_freqs],
// in double. Frequencies of the bins: linspace(0, sample_rate // 2, n_freqs).
std::vector<double> torch_mel_fbanks(int64_t n_freqs, double f_min, double f_max, int64_t n_mels,
                                     double sample_rate, bool slaney_norm, bool slaney_scale);

// Leading (batch) elements of a tensor whose last `trailing` axes are the
// stage's own: product of the other dims.
inline int64_t leading_count(const fp_tensor& t, int trailing) {
  int64_t n = 1;
  for (int k = 0; k < t.rank - trailing; ++k) n *= t.shape[k];
  return n;
}

// Throws when a float is NaN or infinite, naming what it came from.
void check_finite(const float* x, int64_t n, const char* what);

}  // namespace featpipe::audio
