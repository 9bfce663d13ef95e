// audio.stft — short-time Fourier transform power/magnitude spectrogram,
// ≡ torchaudio.transforms.Spectrogram (transposed to [frame, freq]).
//
//   - use: audio.stft
//     with: {n_fft: 512, win_length: 400, hop_length: 160}
//
// Input [..., time], output [..., frame, freq] with freq = n_fft/2 + 1.
// Frames as torch.stft: with `center`, the signal is padded by n_fft/2 on
// both sides (reflect or zeros) and there are 1 + (n + 2·(n_fft/2) − n_fft)
// / hop frames (1 + n/hop for even n_fft); without it, 1 + (n − n_fft)/hop.
// The window (win_length samples) is zero-padded to n_fft, centered.
// Streamable: frames are cut incrementally, so chunked pushes give the
// same bits as one push.
#include "dsp.hpp"
#include "stages.hpp"
#include "windows.hpp"

#include <cmath>

namespace featpipe::audio {
namespace {

using sdk::check;

// The per-frame loops, cloned for AVX-512 / AVX2 / baseline and picked at
// load time. Element-wise products and sums, no reductions and no fused
// multiply-add (the plugin builds with -ffp-contract=off): every clone
// gives the same bits.
__attribute__((target_clones("avx512f", "avx2", "default"))) void windowed(const float* __restrict x, const float* __restrict w,
                                                                           float* __restrict out, int64_t n) {
  for (int64_t k = 0; k < n; ++k) out[k] = x[k] * w[k];
}

__attribute__((target_clones("avx512f", "avx2", "default"))) void power2(const float* __restrict X, float* __restrict y, int64_t bins) {
  for (int64_t k = 0; k < bins; ++k) y[k] = X[2 * k] * X[2 * k] + X[2 * k + 1] * X[2 * k + 1];
}

class Stft final : public sdk::Stage, public sdk::StageDefaults {
 public:
  static constexpr const char* kName = "audio.stft";
  static constexpr const char* kDoc =
      "power (or magnitude) spectrogram [..., frame, freq], freq = n_fft/2+1; "
      "≡ torchaudio.transforms.Spectrogram transposed";
  static constexpr const char* kExample = "- use: audio.stft\n  with: {n_fft: 512, win_length: 400, hop_length: 160}";
  static constexpr fp_param_desc kParams[] = {
      sdk::Param::Int("n_fft", "400").range(2, 1 << 20).unit("samples").doc("FFT size"),
      sdk::Param::Int("win_length", "null").nullable().range(1, 1 << 20).unit("samples")
          .doc("window length, <= n_fft; default n_fft"),
      sdk::Param::Int("hop_length", "null").nullable().range(1, 1 << 20).unit("samples")
          .doc("samples between frames; default win_length/2"),
      sdk::Param::Choice("window", "hann", kWindowChoices)
          .doc("window function (povey = hann^0.85, as Kaldi; hanning = hann, rect = rectangular)"),
      sdk::Param::Bool("periodic", "true").doc("periodic window (as torch's default) rather than symmetric"),
      sdk::Param::Bool("center", "true").doc("pad n_fft/2 samples on both sides so frame t is centered at t*hop"),
      sdk::Param::Choice("pad_mode", "reflect", "reflect|constant").doc("padding used with center"),
      sdk::Param::Float("power", "2.0").range(1e-6, 16).doc("exponent of the magnitude: 1 magnitude, 2 power"),
  };

  explicit Stft(const sdk::Params& p)
      : n_fft_(p.i("n_fft")),
        win_(p.is_null("win_length") ? n_fft_ : p.i("win_length")),
        hop_(p.is_null("hop_length") ? std::max<int64_t>(win_ / 2, 1) : p.i("hop_length")),
        window_kind_(p.s("window")),
        periodic_(p.b("periodic")),
        center_(p.b("center")),
        reflect_(p.s("pad_mode") == "reflect"),
        power_(p.f("power")) {
    check(win_ <= n_fft_, "win_length", "win_length must be <= n_fft, got ", win_, " > ", n_fft_);
    // The window, zero-padded to n_fft and centered, as torch.stft does.
    const std::vector<double> w = make_window(window_kind_, win_, periodic_);
    window_.assign(static_cast<size_t>(n_fft_), 0.0f);
    const int64_t off = (n_fft_ - win_) / 2;
    for (int64_t k = 0; k < win_; ++k) window_[static_cast<size_t>(off + k)] = static_cast<float>(w[static_cast<size_t>(k)]);
    // Only the window's nonzero span is multiplied per frame; the FFT
    // input's samples outside it stay zero (r2c preserves its input). The
    // products skipped were ±0, which change no power or magnitude value.
    win_lo_ = 0;
    win_hi_ = n_fft_;
    while (win_lo_ < n_fft_ && window_[static_cast<size_t>(win_lo_)] == 0.0f) ++win_lo_;
    while (win_hi_ > win_lo_ && window_[static_cast<size_t>(win_hi_ - 1)] == 0.0f) --win_hi_;
    // Widened to whole 64-byte lines of the (aligned) FFT input: aligned
    // vector stores (the extra products are ±0 too).
    win_lo_ = win_lo_ / 16 * 16;
    win_hi_ = std::min<int64_t>(n_fft_, (win_hi_ + 15) / 16 * 16);
    FramerConfig fc;
    fc.length = n_fft_;
    fc.hop = hop_;
    fc.left = fc.right = center_ ? n_fft_ / 2 : 0;
    fc.pad = reflect_ ? EdgePad::reflect : EdgePad::zeros;
    fc.count = FrameCount::fit;
    framer_cfg_ = fc;
  }

  sdk::Spec configure(const sdk::Spec& in, fp_stream_info& info) override {
    check(in.rank() >= 1 && in.axis(in.rank() - 1) == "time", nullptr,
          "audio.stft takes a signal [..., time], got ", in.axes_text());
    sdk::Spec out = in;
    const int t = in.rank() - 1;
    int64_t frames = -1;
    if (in.dim(t) >= 0) {
      Framer f;
      f.configure(framer_cfg_);
      frames = f.total_frames(in.dim(t));
    }
    out.set_axis(t, "frame", frames);
    out.append("freq", n_fft_ / 2 + 1);
    out.set_stream_axis(t);
    out.set_attr("hop_length", static_cast<double>(hop_));
    out.set_attr("n_fft", static_cast<double>(n_fft_));
    info.hop = static_cast<double>(hop_);
    info.lookahead = center_ ? n_fft_ / 2 : n_fft_;
    info.history = center_ ? n_fft_ / 2 : 0;
    return out;
  }

  void reset() override {
    for (Framer& f : framers_) f.reset();
  }

  void push(fp_tensor& in, fp_tensor& out) override {
    const int64_t channels = leading_count(in, 1);
    const int64_t n = in.shape[in.rank - 1];
    ensure_channels(channels);
    used_ = 0;
    int64_t frames = 0;
    for (int64_t c = 0; c < channels; ++c)
      frames = framers_[static_cast<size_t>(c)].push(in.data + c * n, n, [this](const float* fr) { frame(fr); });
    make_out(in, frames, out);
  }

  void flush(fp_tensor& out) override {
    check(!framers_.empty(), nullptr, "no samples: the input is empty");
    used_ = 0;
    int64_t frames = 0;
    try {
      for (Framer& f : framers_) frames = f.flush([this](const float* fr) { frame(fr); });
    } catch (const sdk::Error& e) {
      std::string why;
      if (!center_) why = sdk::cat(" (without center a frame needs n_fft = ", n_fft_, " samples)");
      else if (reflect_) why = sdk::cat(" (center with pad_mode reflect needs more than n_fft/2 = ", n_fft_ / 2, " samples)");
      throw sdk::Error(e.what() + why);
    }
    fp_tensor like{};
    like.rank = static_cast<int32_t>(lead_shape_.size()) + 1;
    for (size_t k = 0; k < lead_shape_.size(); ++k) like.shape[k] = lead_shape_[k];
    make_out(like, frames, out);
  }

 private:
  void ensure_channels(int64_t channels) {
    if (static_cast<int64_t>(framers_.size()) == channels) return;
    check(framers_.empty() || framers_[0].samples_seen() == 0, nullptr,
          "the number of channels changed within one input");
    framers_.assign(static_cast<size_t>(channels), Framer{});
    for (Framer& f : framers_) f.configure(framer_cfg_);
    if (!fft_) fft_ = std::make_unique<RealFft>(n_fft_);
  }

  // Window one frame, transform it, append |X|^power to out_.
  void frame(const float* x) {
    windowed(x + win_lo_, window_.data() + win_lo_, fft_->input() + win_lo_, win_hi_ - win_lo_);
    fft_->run();
    const fftwf_complex* X = fft_->output();
    const int64_t bins = n_fft_ / 2 + 1;
    if (used_ + static_cast<size_t>(bins) > out_.size()) out_.resize(std::max(out_.size() * 2, used_ + 64 * bins));
    float* y = out_.data() + used_;
    used_ += static_cast<size_t>(bins);
    if (power_ == 2.0) {
      power2(&X[0][0], y, bins);
    } else if (power_ == 1.0) {
      for (int64_t k = 0; k < bins; ++k) y[k] = std::sqrt(X[k][0] * X[k][0] + X[k][1] * X[k][1]);
    } else {
      const float p = static_cast<float>(power_);
      for (int64_t k = 0; k < bins; ++k) y[k] = std::pow(std::sqrt(X[k][0] * X[k][0] + X[k][1] * X[k][1]), p);
    }
  }

  // [lead..., frames, freq] over out_.
  void make_out(const fp_tensor& in, int64_t frames, fp_tensor& out) {
    lead_shape_.assign(in.shape, in.shape + (in.rank - 1));
    out = fp_tensor{};
    out.data = out_.data();
    out.rank = in.rank + 1;
    for (int k = 0; k < in.rank - 1; ++k) out.shape[k] = in.shape[k];
    out.shape[in.rank - 1] = frames;
    out.shape[in.rank] = n_fft_ / 2 + 1;
  }

  int64_t n_fft_, win_, hop_;
  std::string window_kind_;
  bool periodic_, center_, reflect_;
  double power_;
  std::vector<float> window_;
  int64_t win_lo_ = 0, win_hi_ = 0;  // the window's nonzero span
  FramerConfig framer_cfg_;
  std::vector<Framer> framers_;
  std::unique_ptr<RealFft> fft_;
  std::vector<float> out_;  // grows, never shrinks: no per-frame zero fill
  size_t used_ = 0;
  std::vector<int64_t> lead_shape_;
};

}  // namespace

fp_stage_desc stft_stage() { return sdk::stage<Stft>(); }

}  // namespace featpipe::audio
