// norm.cmvn — cepstral mean and variance normalization over frames, as
// Kaldi's apply-cmvn (per utterance) and apply-cmvn-sliding (window).
//
//   - use: norm.cmvn                 # per utterance (batch-only)
//   - use: norm.cmvn
//     with: {window: 300}            # sliding, streamable
//
// Input [..., frame, feature], same shape out. Each feature:
//   y = (x − mean) / sqrt(var)   (norm_vars; y = x − mean without)
// with population statistics (divide by N) in double precision.
//   - window null: statistics of the whole utterance (needs the whole
//     input, which the engine hands over in one push). var is floored at
//     1e-20 as Kaldi's apply-cmvn does.
//   - window W: Kaldi's sliding window ≡ torchaudio.functional.
//     sliding_window_cmn(x, W, min_window, center, norm_vars): with center
//     false, frame t uses frames [t − W, t] (W + 1 frames), but at the start
//     at least the first min_window frames (latency only at the start);
//     with center true, W frames around t (shifted at the edges). A window
//     of one frame normalizes to 0 with norm_vars, as torchaudio.
//   - stats FILE: fixed (global) statistics from Kaldi's compute-cmvn-stats
//     or WeNet's global_cmvn JSON (cmvn_stats.hpp), as apply-cmvn with a
//     global stats file and WeNet's GlobalCMVN apply them. Frame-wise:
//     streams.
// Defaults differ from Kaldi on purpose: norm_vars is true here (the stage
// is named CMVN); Kaldi's apply-cmvn and apply-cmvn-sliding default to
// --norm-vars=false, so set `norm_vars: false` to reproduce Kaldi recipes.
#include "cmvn_stats.hpp"
#include "dsp.hpp"
#include "stages.hpp"

#include <cmath>
#include <filesystem>

namespace featpipe::audio {
namespace {

using sdk::check;

constexpr double kVarFloor = 1e-20;

// Sliding-window statistics for one channel, incremental (Kaldi's
// SlidingWindowCmnInternal, streaming).
class Sliding {
 public:
  void configure(int64_t width, int64_t window, int64_t min_window, bool center, bool vars, bool means) {
    width_ = width;
    w_ = window;
    min_w_ = min_window;
    center_ = center;
    vars_ = vars;
    means_ = means;
    reset();
  }
  void reset() {
    buf_.clear();
    base_ = frames_ = next_ = 0;
    last_start_ = last_end_ = -1;
    sum_.assign(static_cast<size_t>(width_), 0.0);
    sumsq_.assign(static_cast<size_t>(width_), 0.0);
    shift_.clear();
  }
  void push(const float* x, int64_t count, std::vector<float>& out) {
    buf_.insert(buf_.end(), x, x + count * width_);
    frames_ += count;
    emit(false, out);
  }
  void flush(std::vector<float>& out) { emit(true, out); }

 private:
  // Window of frame t, before (total = -1) or after the input's length is
  // known.
  void window(int64_t t, int64_t total, int64_t& start, int64_t& end) const {
    if (center_) {
      start = t - w_ / 2;
      end = start + w_;
    } else {
      start = t - w_;
      end = t + 1;
    }
    if (start < 0) {
      end -= start;
      start = 0;
    }
    if (!center_ && end > t) end = std::max(t + 1, min_w_);
    if (total >= 0 && end > total) {
      start -= end - total;
      end = total;
      if (start < 0) start = 0;
    }
  }

  void emit(bool at_end, std::vector<float>& out) {
    for (;;) {
      if (next_ >= frames_) break;
      int64_t start, end;
      window(next_, -1, start, end);
      if (end > frames_) {
        if (!at_end) break;  // needs frames not seen yet
        window(next_, frames_, start, end);
      }
      const int64_t t = next_;
      if (last_start_ == -1) {
        for (int64_t j = start; j < end; ++j) add(j, 1.0);
      } else {
        // Windows move by at most one frame at each end (as torchaudio).
        if (start > last_start_) add(last_start_, -1.0);
        if (end > last_end_) add(last_end_, 1.0);
      }
      last_start_ = start;
      last_end_ = end;
      const double n = static_cast<double>(end - start);
      const float* x = frame(t);
      const size_t at = out.size();
      out.resize(at + static_cast<size_t>(width_));
      float* y = out.data() + at;
      for (int64_t f = 0; f < width_; ++f) {
        const double mean = sum_[static_cast<size_t>(f)] / n;  // of x − shift
        double v = means_ ? (static_cast<double>(x[f]) - shift_[static_cast<size_t>(f)]) - mean : x[f];
        if (vars_) {
          if (end - start == 1) {
            v = 0.0;
          } else {
            const double var = sumsq_[static_cast<size_t>(f)] / n - mean * mean;
            v /= std::sqrt(std::max(var, kVarFloor));
          }
        }
        y[f] = static_cast<float>(v);
      }
      ++next_;
      // Frames before the window's start and before next_ are done with.
      const int64_t keep = std::min(last_start_, next_);
      if (keep - base_ > 256) {
        buf_.erase(buf_.begin(), buf_.begin() + (keep - base_) * width_);
        base_ = keep;
      }
    }
  }

  const float* frame(int64_t j) const { return buf_.data() + (j - base_) * width_; }
  // Running sums of x − shift, shift = the first frame: the same windows
  // and formula as Kaldi/torchaudio (var = E[d²] − E[d]²) without their
  // cancellation on near-constant features (|mean| >> std).
  void add(int64_t j, double sign) {
    const float* x = frame(j);
    if (shift_.empty()) shift_.assign(x, x + width_);
    for (int64_t f = 0; f < width_; ++f) {
      const double d = static_cast<double>(x[f]) - shift_[static_cast<size_t>(f)];
      sum_[static_cast<size_t>(f)] += sign * d;
      sumsq_[static_cast<size_t>(f)] += sign * d * d;
    }
  }

  int64_t width_ = 0, w_ = 600, min_w_ = 100;
  bool center_ = false, vars_ = true, means_ = true;
  std::vector<float> buf_;  // frames from base_
  int64_t base_ = 0, frames_ = 0, next_ = 0, last_start_ = -1, last_end_ = -1;
  std::vector<double> sum_, sumsq_, shift_;
};

class Cmvn final : public sdk::Stage, public sdk::StageDefaults {
 public:
  static constexpr const char* kName = "norm.cmvn";
  static constexpr const char* kDoc =
      "mean (and variance) normalization over frames per feature: per utterance (window null, as Kaldi "
      "apply-cmvn) or sliding (as apply-cmvn-sliding ≡ torchaudio.functional.sliding_window_cmn), or global "
      "from a statistics file (Kaldi's cmvn.ark, WeNet's global_cmvn)";
  static constexpr const char* kExample = "- use: norm.cmvn\n  with: {window: 300}";
  static constexpr fp_param_desc kParams[] = {
      sdk::Param::Int("window", "null").nullable().range(1, 1e9).unit("frames")
          .doc("sliding window; null: the whole utterance (batch-only)"),
      sdk::Param::Int("min_window", "100").range(1, 1e9).unit("frames")
          .doc("sliding, center false: frames used at least at the start"),
      sdk::Param::Bool("center", "false").doc("sliding: window centered on the frame (else to its left)"),
      sdk::Param::Bool("norm_means", "true").doc("subtract the mean"),
      sdk::Param::Bool("norm_vars", "true").doc("divide by the standard deviation (Kaldi's default is false)"),
      sdk::Param::Path("stats", "null").nullable()
          .doc("global statistics instead of the input's: Kaldi compute-cmvn-stats output (binary or text; one "
               "matrix or a one-entry archive) or WeNet's global_cmvn JSON; streams"),
  };

  explicit Cmvn(const sdk::Params& p)
      : window_(p.is_null("window") ? 0 : p.i("window")),
        min_window_(p.i("min_window")),
        center_(p.b("center")),
        means_(p.b("norm_means")),
        vars_(p.b("norm_vars")) {
    if (!p.is_null("stats")) {
      check(p.is_null("window"), "window", "stats gives fixed statistics and window sliding ones: use one of them");
      stats_ = read_cmvn_stats(p.s("stats"));
      stats_path_ = p.s("stats");
      for (double& v : stats_.var) v = 1.0 / std::sqrt(v);  // now the inverse standard deviation
    }
  }

  sdk::Spec configure(const sdk::Spec& in, fp_stream_info& info) override {
    check(in.rank() >= 2, nullptr, "norm.cmvn takes features [..., frame, feature], got ", in.axes_text());
    width_ = in.dim(in.rank() - 1);  // -1 until data (e.g. after tensor.load)
    info.hop = in.stream_axis() >= 0 ? 1.0 : 0.0;
    if (global()) {
      check_width(width_);
    } else if (window_ == 0) {
      info.whole_input = 1;
      info.whole_input_reason = "window is null (statistics of the whole utterance): set `window: N` frames (a sliding window) to stream";
    } else {
      info.lookahead = center_ ? window_ - window_ / 2 - 1 : min_window_ - 1;
      info.history = window_;
    }
    return in;
  }

  void reset() override { sliding_.clear(); }

  void push(fp_tensor& in, fp_tensor& out) override {
    if (in.shape[in.rank - 1] != width_) {
      check(sliding_.empty(), nullptr, "norm.cmvn: the feature size changed within one input");
      width_ = in.shape[in.rank - 1];
    }
    if (global()) {
      check_width(width_);
      const int64_t rows = leading_count(in, 1);
      for (int64_t r = 0; r < rows; ++r) {
        float* x = in.data + r * width_;
        for (int64_t f = 0; f < width_; ++f) {
          double v = x[f];
          if (means_) v -= stats_.mean[static_cast<size_t>(f)];
          if (vars_) v *= stats_.var[static_cast<size_t>(f)];
          x[f] = static_cast<float>(v);
        }
      }
      out = in;
      return;
    }
    if (window_ == 0) {  // `in` is the whole utterance (whole_input)
      utterance(in);
      out = in;
      return;
    }
    const int64_t frames = in.shape[in.rank - 2];
    const int64_t channels = leading_count(in, 2);
    if (static_cast<int64_t>(sliding_.size()) != channels) {
      sliding_.assign(static_cast<size_t>(channels), Sliding{});
      for (Sliding& s : sliding_) s.configure(width_, window_, min_window_, center_, vars_, means_);
    }
    out_.clear();
    for (int64_t c = 0; c < channels; ++c) sliding_[static_cast<size_t>(c)].push(in.data + c * frames * width_, frames, out_);
    shape_ = in;
    finish(out);
  }

  void flush(fp_tensor& out) override {
    out = fp_tensor{};
    if (global() || window_ == 0 || sliding_.empty()) return;
    out_.clear();
    for (Sliding& s : sliding_) s.flush(out_);
    finish(out);
  }

 private:
  bool global() const { return !stats_.mean.empty(); }

  void check_width(int64_t width) const {
    check(width < 0 || width == static_cast<int64_t>(stats_.mean.size()), nullptr, "norm.cmvn: the statistics of '",
          std::filesystem::path(stats_path_).filename().string(), "' have ", stats_.mean.size(),
          " features, the input ", width);
  }

  void finish(fp_tensor& out) {
    const int64_t channels = static_cast<int64_t>(sliding_.size());
    out = shape_;
    out.data = out_.data();
    out.shape[shape_.rank - 2] = static_cast<int64_t>(out_.size()) / (width_ * std::max<int64_t>(channels, 1));
  }

  // Per-utterance statistics, in place.
  void utterance(fp_tensor& t) const {
    const int64_t frames = t.shape[t.rank - 2];
    const int64_t channels = leading_count(t, 2);
    std::vector<double> mean(static_cast<size_t>(width_)), var(static_cast<size_t>(width_));
    for (int64_t c = 0; c < channels; ++c) {
      float* x = t.data + c * frames * width_;
      std::fill(mean.begin(), mean.end(), 0.0);
      std::fill(var.begin(), var.end(), 0.0);
      for (int64_t i = 0; i < frames; ++i)
        for (int64_t f = 0; f < width_; ++f) mean[static_cast<size_t>(f)] += x[i * width_ + f];
      for (double& m : mean) m /= static_cast<double>(frames);
      for (int64_t i = 0; i < frames; ++i)
        for (int64_t f = 0; f < width_; ++f) {
          const double d = x[i * width_ + f] - mean[static_cast<size_t>(f)];
          var[static_cast<size_t>(f)] += d * d;
        }
      for (double& v : var) v = std::max(v / static_cast<double>(frames), kVarFloor);
      for (int64_t i = 0; i < frames; ++i)
        for (int64_t f = 0; f < width_; ++f) {
          double v = x[i * width_ + f];
          if (means_) v -= mean[static_cast<size_t>(f)];
          if (vars_) v /= std::sqrt(var[static_cast<size_t>(f)]);
          x[i * width_ + f] = static_cast<float>(v);
        }
    }
  }

  int64_t window_, min_window_;
  bool center_, means_, vars_;
  CmvnStats stats_;  // global statistics (stats: FILE); var holds 1/std
  std::string stats_path_;
  int64_t width_ = 0;
  std::vector<Sliding> sliding_;
  std::vector<float> out_;
  fp_tensor shape_{};
};

}  // namespace

fp_stage_desc cmvn_stage() { return sdk::stage<Cmvn>(); }

}  // namespace featpipe::audio
