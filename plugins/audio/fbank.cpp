// audio.fbank — Kaldi-compatible log mel filterbank (compute-fbank-feats),
// ≡ torchaudio.compliance.kaldi.fbank(32768 · x, dither=0, ...).
//
//   - use: audio.fbank
//     with: {num_mel_bins: 80}
//
// Input [..., time] in [-1, 1] with attribute sample_rate; the samples are
// scaled by 32768 first, as Kaldi reads 16-bit audio as integers. Output
// [..., frame, mel] (mel = num_mel_bins, + 1 energy column first with
// use_energy). Per frame, in Kaldi's order: DC removal, raw log-energy,
// pre-emphasis (x[t] − c·x[t−1], x[−1] = x[0]), window, zero-pad to a power
// of two, |FFT|^2, mel banks (Kaldi's: 1127·ln(1 + f/700), excluding the
// Nyquist bin), log with the float32 epsilon as floor (Kaldi's floor).
// snip_edges: frames that fit (1 + (n − len)/shift); false: (n + shift/2)
// / shift frames with the signal mirrored at both ends. Streams.
#include "dsp.hpp"
#include "stages.hpp"
#include "windows.hpp"

#include <cmath>
#include <limits>

namespace featpipe::audio {
namespace {

using sdk::check;

class Fbank final : public sdk::Stage, public sdk::StageDefaults {
 public:
  static constexpr const char* kName = "audio.fbank";
  static constexpr const char* kDoc =
      "Kaldi log mel filterbank; ≡ torchaudio.compliance.kaldi.fbank(32768·x, dither=0, ...)";
  static constexpr const char* kExample = "- use: audio.fbank\n  with: {num_mel_bins: 80}";
  static constexpr fp_param_desc kParams[] = {
      sdk::Param::Int("num_mel_bins", "23").range(4, 65536).doc("number of triangular mel bins (> 3)"),
      sdk::Param::Float("frame_length", "25.0").range(0.01, 1e6).unit("ms").doc("frame length"),
      sdk::Param::Float("frame_shift", "10.0").range(0.01, 1e6).unit("ms").doc("frame shift"),
      sdk::Param::Choice("window_type", "povey", kWindowChoices)
          .doc("window, as Kaldi's (symmetric; hanning = hann, rect = rectangular)"),
      sdk::Param::Float("blackman_coeff", "0.42").doc("coefficient of the blackman window"),
      sdk::Param::Float("preemphasis_coefficient", "0.97").range(0, 1).doc("pre-emphasis per frame"),
      sdk::Param::Bool("remove_dc_offset", "true").doc("subtract each frame's mean"),
      sdk::Param::Bool("snip_edges", "true").doc("true: only frames that fit; false: mirror the ends"),
      sdk::Param::Float("low_freq", "20.0").range(0, 1e7).unit("Hz").doc("low cutoff of the mel bins"),
      sdk::Param::Float("high_freq", "0.0").range(-1e7, 1e7).unit("Hz")
          .doc("high cutoff; <= 0: offset from the Nyquist frequency"),
      sdk::Param::Float("energy_floor", "1.0").range(0, 1e30).doc("floor on the energy (not log); 0: none"),
      sdk::Param::Bool("use_energy", "false").doc("add the log energy as the first column"),
      sdk::Param::Bool("raw_energy", "true").doc("energy before pre-emphasis and window"),
      sdk::Param::Bool("htk_compat", "false").doc("energy as the last column instead of the first"),
      sdk::Param::Bool("round_to_power_of_two", "true").doc("zero-pad frames to a power of two"),
      sdk::Param::Bool("use_log_fbank", "true").doc("log of the mel energies"),
      sdk::Param::Bool("use_power", "true").doc("power spectrum (false: magnitude)"),
      sdk::Param::Float("dither", "0.0").range(0, 0).doc("must be 0: featpipe features are deterministic"),
  };

  explicit Fbank(const sdk::Params& p)
      : bins_(p.i("num_mel_bins")),
        frame_ms_(p.f("frame_length")),
        shift_ms_(p.f("frame_shift")),
        window_type_(canonical_window(p.s("window_type"))),
        blackman_coeff_(p.f("blackman_coeff")),
        preemph_(static_cast<float>(p.f("preemphasis_coefficient"))),
        remove_dc_(p.b("remove_dc_offset")),
        snip_(p.b("snip_edges")),
        low_freq_(p.f("low_freq")),
        high_freq_(p.f("high_freq")),
        energy_floor_(p.f("energy_floor")),
        use_energy_(p.b("use_energy")),
        raw_energy_(p.b("raw_energy")),
        htk_compat_(p.b("htk_compat")),
        round_pow2_(p.b("round_to_power_of_two")),
        use_log_(p.b("use_log_fbank")),
        use_power_(p.b("use_power")) {}

  sdk::Spec configure(const sdk::Spec& in, fp_stream_info& info) override {
    check(in.rank() >= 1 && in.axis(in.rank() - 1) == "time", nullptr,
          "audio.fbank takes a signal [..., time], got ", in.axes_text());
    const double rate = in.attr("sample_rate");
    if (std::isfinite(rate)) build(rate);
    const int t = in.rank() - 1;
    sdk::Spec out = in;
    int64_t frames = -1;
    if (std::isfinite(rate) && in.dim(t) >= 0) {
      Framer f;
      f.configure(framer_cfg_);
      frames = f.total_frames(in.dim(t));
    }
    out.set_axis(t, "frame", frames);
    out.append("mel", bins_ + (use_energy_ ? 1 : 0));
    out.set_stream_axis(t);
    if (std::isfinite(rate)) {
      out.set_attr("hop_length", static_cast<double>(shift_));
      info.hop = static_cast<double>(shift_);
      info.lookahead = size_;
    } else {
      // The sample rate is not known at load time (audio.decode keeping
      // each file's rate): the frame shift and length are milliseconds, so
      // neither is known in input samples. Declared as 0 (NaN would poison
      // sums); the engine's latency figure then leaves this step out.
      // start() configures again with the concrete rate.
      info.hop = 0.0;
      info.lookahead = 0;
      info.history = 0;
    }
    return out;
  }

  void reset() override {
    for (Framer& f : framers_) f.reset();
  }

  void push(fp_tensor& in, fp_tensor& out) override {
    check(rate_ > 0, nullptr, "audio.fbank: the input has no sample_rate attribute");
    const int64_t channels = leading_count(in, 1);
    const int64_t n = in.shape[in.rank - 1];
    if (static_cast<int64_t>(framers_.size()) != channels) {
      framers_.assign(static_cast<size_t>(channels), Framer{});
      for (Framer& f : framers_) f.configure(framer_cfg_);
    }
    out_.clear();
    int64_t frames = 0;
    for (int64_t c = 0; c < channels; ++c)
      frames = framers_[static_cast<size_t>(c)].push(in.data + c * n, n, [this](const float* fr) { frame(fr); });
    lead_.assign(in.shape, in.shape + (in.rank - 1));
    make_out(frames, out);
  }

  void flush(fp_tensor& out) override {
    check(!framers_.empty(), nullptr, "no samples: the input is empty");
    out_.clear();
    int64_t frames = 0;
    for (Framer& f : framers_) frames = f.flush([this](const float* fr) { frame(fr); });
    make_out(frames, out);
  }

 private:
  void build(double rate) {
    if (rate == rate_) return;
    const int64_t size = static_cast<int64_t>(rate * frame_ms_ * 0.001);
    const int64_t shift = static_cast<int64_t>(rate * shift_ms_ * 0.001);
    check(size >= 2, "frame_length", "frame_length of ", frame_ms_, " ms is under 2 samples at ", rate, " Hz");
    check(shift >= 1, "frame_shift", "frame_shift of ", shift_ms_, " ms is under 1 sample at ", rate, " Hz");
    int64_t padded = size;
    if (round_pow2_) {
      padded = 1;
      while (padded < size) padded <<= 1;
    }
    check(padded % 2 == 0, "frame_length", "the padded frame length must be even, got ", padded,
          " samples (use round_to_power_of_two)");
    std::vector<double> w =
        window_type_ == "blackman" ? kaldi_blackman(size, blackman_coeff_) : make_window(window_type_, size, false);
    window_.assign(w.begin(), w.end());
    bands_.assign(kaldi_mel_banks(bins_, padded, rate, low_freq_, high_freq_), bins_, padded / 2 + 1);
    size_ = size;
    shift_ = shift;
    padded_ = padded;
    fft_ = std::make_unique<RealFft>(padded);
    power_.resize(static_cast<size_t>(padded / 2 + 1));
    FramerConfig fc;
    fc.length = size;
    fc.hop = shift;
    if (snip_) {
      fc.left = fc.right = 0;
      fc.count = FrameCount::fit;
    } else {
      fc.left = size / 2 - shift / 2;
      fc.pad = EdgePad::symmetric;
      fc.count = FrameCount::kaldi_nosnip;
    }
    framer_cfg_ = fc;
    framers_.clear();
    rate_ = rate;
  }

  // One frame of `size_` samples (in [-1, 1]) to one output row.
  void frame(const float* x) {
    constexpr float kScale = 32768.0f;
    constexpr double kEps = std::numeric_limits<float>::epsilon();  // Kaldi's log floor
    float* buf = fft_->input();
    double mean = 0.0;
    for (int64_t k = 0; k < size_; ++k) {
      buf[k] = x[k] * kScale;
      mean += buf[k];
    }
    mean /= static_cast<double>(size_);
    if (remove_dc_)
      for (int64_t k = 0; k < size_; ++k) buf[k] = static_cast<float>(buf[k] - mean);
    double log_energy = 0.0;
    if (use_energy_ && raw_energy_) log_energy = energy(buf, size_);
    if (preemph_ != 0.0f) {
      for (int64_t k = size_ - 1; k >= 1; --k) buf[k] -= preemph_ * buf[k - 1];
      buf[0] -= preemph_ * buf[0];
    }
    for (int64_t k = 0; k < size_; ++k) buf[k] *= window_[static_cast<size_t>(k)];
    for (int64_t k = size_; k < padded_; ++k) buf[k] = 0.0f;
    if (use_energy_ && !raw_energy_) log_energy = energy(buf, padded_);
    fft_->run();
    const fftwf_complex* X = fft_->output();
    const int64_t bins = padded_ / 2 + 1;
    for (int64_t k = 0; k < bins; ++k) {
      const float p = X[k][0] * X[k][0] + X[k][1] * X[k][1];
      power_[static_cast<size_t>(k)] = use_power_ ? p : std::sqrt(p);
    }
    const size_t at = out_.size();
    const int64_t width = bins_ + (use_energy_ ? 1 : 0);
    out_.resize(at + static_cast<size_t>(width));
    float* y = out_.data() + at;
    float* mel = y + (use_energy_ && !htk_compat_ ? 1 : 0);
    bands_.apply(power_.data(), mel);
    if (use_log_)
      for (int64_t b = 0; b < bins_; ++b) mel[b] = static_cast<float>(std::log(std::max<double>(mel[b], kEps)));
    if (use_energy_) y[htk_compat_ ? bins_ : 0] = static_cast<float>(log_energy);
  }

  double energy(const float* x, int64_t n) const {
    double e = 0.0;
    for (int64_t k = 0; k < n; ++k) e += static_cast<double>(x[k]) * x[k];
    double le = std::log(std::max(e, static_cast<double>(std::numeric_limits<float>::epsilon())));
    if (energy_floor_ > 0.0) le = std::max(le, std::log(energy_floor_));
    return le;
  }

  void make_out(int64_t frames, fp_tensor& out) {
    out = fp_tensor{};
    out.data = out_.data();
    out.rank = static_cast<int32_t>(lead_.size()) + 2;
    for (size_t k = 0; k < lead_.size(); ++k) out.shape[k] = lead_[k];
    out.shape[lead_.size()] = frames;
    out.shape[lead_.size() + 1] = bins_ + (use_energy_ ? 1 : 0);
  }

  int64_t bins_;
  double frame_ms_, shift_ms_;
  std::string window_type_;
  double blackman_coeff_;
  float preemph_;
  bool remove_dc_, snip_;
  double low_freq_, high_freq_, energy_floor_;
  bool use_energy_, raw_energy_, htk_compat_, round_pow2_, use_log_, use_power_;

  double rate_ = -1;
  int64_t size_ = 0, shift_ = 0, padded_ = 0;
  std::vector<float> window_, power_;
  Bands bands_;
  std::unique_ptr<RealFft> fft_;
  FramerConfig framer_cfg_;
  std::vector<Framer> framers_;
  std::vector<float> out_;
  std::vector<int64_t> lead_;
};

}  // namespace

fp_stage_desc fbank_stage() { return sdk::stage<Fbank>(); }

}  // namespace featpipe::audio
