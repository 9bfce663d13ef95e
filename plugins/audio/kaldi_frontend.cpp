// Kaldi's frame extraction and mel banks (see kaldi_frontend.hpp).
#include "kaldi_frontend.hpp"

#include <cmath>
#include <limits>
#include <numbers>

namespace featpipe::audio {

using sdk::check;

KaldiFrameOptions KaldiFrameOptions::from(const sdk::Params& p) {
  KaldiFrameOptions o;
  o.frame_ms = p.f("frame_length");
  o.shift_ms = p.f("frame_shift");
  o.window_type = canonical_window(p.s("window_type"));
  o.blackman_coeff = p.f("blackman_coeff");
  o.preemph = static_cast<float>(p.f("preemphasis_coefficient"));
  o.remove_dc = p.b("remove_dc_offset");
  o.snip = p.b("snip_edges");
  o.round_pow2 = p.b("round_to_power_of_two");
  o.dither = p.f("dither");
  o.seed = static_cast<uint32_t>(p.i("seed"));
  return o;
}

KaldiMelOptions KaldiMelOptions::from(const sdk::Params& p) {
  return {p.i("num_mel_bins"), p.f("low_freq"), p.f("high_freq"), p.f("vtln_low"), p.f("vtln_high"), p.f("vtln_warp")};
}

std::vector<double> kaldi_window(const std::string& type, int64_t length, double blackman_coeff) {
  return type == "blackman" ? kaldi_blackman(length, blackman_coeff) : make_window(type, length, false);
}

namespace {

double mel_scale(double f) { return 1127.0 * std::log(1.0 + f / 700.0); }
double inverse_mel_scale(double m) { return 700.0 * (std::exp(m / 1127.0) - 1.0); }

// MelBanks::VtlnWarpFreq: piecewise linear, F(low) = low, F(high) = high,
// F(f) = f / warp between the inflection points l and h.
double vtln_warp_freq(double vtln_low, double vtln_high, double low, double high, double warp, double freq) {
  if (freq < low || freq > high) return freq;
  const double l = vtln_low * std::max(1.0, warp), h = vtln_high * std::min(1.0, warp);
  const double scale = 1.0 / warp, Fl = scale * l, Fh = scale * h;
  check(l > low && h < high, "vtln_warp", "the VTLN inflection points ", l, " and ", h, " Hz (vtln_low and vtln_high at "
        "warp ", warp, ") must lie inside (low_freq, high_freq) = (", low, ", ", high, ")");
  const double scale_left = (Fl - low) / (l - low), scale_right = (high - Fh) / (high - h);
  if (freq < l) return low + scale_left * (freq - low);
  if (freq < h) return scale * freq;
  return high + scale_right * (freq - high);
}

}  // namespace

std::vector<double> kaldi_mel_banks(const KaldiMelOptions& o, int64_t padded, double sample_freq) {
  const double nyquist = 0.5 * sample_freq;
  const double low_freq = o.low_freq, high_freq = o.high_freq > 0.0 ? o.high_freq : o.high_freq + nyquist;
  check(low_freq >= 0.0 && low_freq < nyquist, "low_freq", "low_freq must be in [0, ", nyquist, "), got ", low_freq);
  check(high_freq > 0.0 && high_freq <= nyquist, "high_freq", "high_freq must be in (0, ", nyquist,
        "] (or <= 0: offset from the Nyquist frequency), got ", high_freq);
  check(low_freq < high_freq, "low_freq", "low_freq must be below high_freq, got ", low_freq, " >= ", high_freq);
  const double vtln_low = o.vtln_low, vtln_high = o.vtln_high < 0.0 ? o.vtln_high + nyquist : o.vtln_high;
  const double warp = o.vtln_warp;
  if (warp != 1.0) {
    check(vtln_low > low_freq && vtln_low < high_freq, "vtln_low", "vtln_low must lie in (low_freq, high_freq) = (",
          low_freq, ", ", high_freq, "), got ", vtln_low);
    check(vtln_high > 0.0 && vtln_high < high_freq && vtln_high > vtln_low, "vtln_high",
          "vtln_high must lie in (vtln_low, high_freq) = (", vtln_low, ", ", high_freq, "), got ", vtln_high,
          o.vtln_high < 0.0 ? " (Nyquist + vtln_high)" : "");
  }
  auto warped = [&](double mel) {
    return warp == 1.0 ? mel
                       : mel_scale(vtln_warp_freq(vtln_low, vtln_high, low_freq, high_freq, warp, inverse_mel_scale(mel)));
  };
  const int64_t num_fft_bins = padded / 2, cols = num_fft_bins + 1;
  const double fft_bin_width = sample_freq / static_cast<double>(padded);
  const double mel_lo = mel_scale(low_freq), mel_hi = mel_scale(high_freq);
  const double delta = (mel_hi - mel_lo) / static_cast<double>(o.num_bins + 1);
  std::vector<double> fb(static_cast<size_t>(o.num_bins * cols), 0.0);
  for (int64_t b = 0; b < o.num_bins; ++b) {
    const double left = warped(mel_lo + b * delta), center = warped(mel_lo + (b + 1.0) * delta),
                 right = warped(mel_lo + (b + 2.0) * delta);
    for (int64_t k = 0; k < num_fft_bins; ++k) {
      const double m = mel_scale(fft_bin_width * static_cast<double>(k));
      if (!(m > left && m < right)) continue;
      fb[static_cast<size_t>(b * cols + k)] = m <= center ? (m - left) / (center - left) : (right - m) / (right - center);
    }
  }
  return fb;
}

void KaldiFrontend::build(double rate) {
  if (rate == rate_) return;
  const int64_t size = static_cast<int64_t>(rate * o_.frame_ms * 0.001);
  const int64_t shift = static_cast<int64_t>(rate * o_.shift_ms * 0.001);
  check(size >= 2, "frame_length", "frame_length of ", o_.frame_ms, " ms is under 2 samples at ", rate, " Hz");
  check(shift >= 1, "frame_shift", "frame_shift of ", o_.shift_ms, " ms is under 1 sample at ", rate, " Hz");
  int64_t padded = size;
  if (o_.round_pow2) {
    padded = 1;
    while (padded < size) padded <<= 1;
  }
  check(padded % 2 == 0, "frame_length", "the padded frame length must be even, got ", padded,
        " samples (use round_to_power_of_two)");
  const std::vector<double> w = kaldi_window(o_.window_type, size, o_.blackman_coeff);
  window_.assign(w.begin(), w.end());
  size_ = size;
  shift_ = shift;
  padded_ = padded;
  fft_ = std::make_unique<RealFft>(padded);
  power_.resize(static_cast<size_t>(spectrum_ == Spectrum::packed_fft ? padded : padded / 2 + 1));
  FramerConfig fc;
  fc.length = size;
  fc.hop = shift;
  if (o_.snip) {
    fc.left = fc.right = 0;
    fc.count = FrameCount::fit;
  } else {  // Kaldi's FirstSampleOfFrame: frames centred on t·shift + shift/2
    fc.left = size / 2 - shift / 2;
    fc.pad = EdgePad::symmetric;
    fc.count = FrameCount::kaldi_nosnip;
  }
  framer_cfg_ = fc;
  framers_.clear();
  rate_ = rate;
}

int64_t KaldiFrontend::total_frames(int64_t n) const {
  Framer f;
  f.configure(framer_cfg_);
  return f.total_frames(n);
}

void KaldiFrontend::reset() {
  for (Framer& f : framers_) f.reset();
  if (o_.dither == 0.0) return;  // seeding mt19937 costs ~70k instructions: only when used
  for (size_t c = 0; c < rng_.size(); ++c) {
    std::seed_seq s{o_.seed, static_cast<uint32_t>(c)};
    rng_[c].seed(s);
  }
  has_spare_.assign(rng_.size(), 0);
}

void KaldiFrontend::ensure_channels(int64_t channels) {
  if (static_cast<int64_t>(framers_.size()) == channels) return;
  framers_.assign(static_cast<size_t>(channels), Framer{});
  for (Framer& f : framers_) f.configure(framer_cfg_);
  rng_.assign(static_cast<size_t>(channels), std::mt19937{});
  spare_.assign(static_cast<size_t>(channels), 0.0f);
  reset();
}

// A standard normal value: Box–Muller on mt19937 (whose sequence the C++
// standard fixes), so a seed gives the same noise with any library.
float KaldiFrontend::gauss(size_t c) {
  if (has_spare_[c]) {
    has_spare_[c] = 0;
    return spare_[c];
  }
  std::mt19937& g = rng_[c];
  const double u1 = (static_cast<double>(g()) + 1.0) / 4294967296.0;  // (0, 1]
  const double u2 = static_cast<double>(g()) / 4294967296.0;
  const double r = std::sqrt(-2.0 * std::log(u1)), a = 2.0 * std::numbers::pi * u2;
  spare_[c] = static_cast<float>(r * std::sin(a));
  has_spare_[c] = 1;
  return static_cast<float>(r * std::cos(a));
}

namespace {

// Σ f(x[k]) in double over eight running sums: one sum is a chain of n
// dependent adds (≈ 4 cycles each, the frame's largest cost); eight
// independent ones vectorize. The result differs from the serial sum only
// in the last bits of a double.
template <class F>
double sum8(const float* x, int64_t n, F f) {
  double s[8] = {};
  int64_t k = 0;
  for (; k + 8 <= n; k += 8)
    for (int j = 0; j < 8; ++j) s[j] += f(static_cast<double>(x[k + j]));
  for (; k < n; ++k) s[0] += f(static_cast<double>(x[k]));
  return ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
}


// The frame's vector loops, each with an AVX2 clone: the same operations in
// the same order (no FMA: -ffp-contract=off), so the same bits as the
// default clone. Free functions, not a cloned member: a member's ifunc is
// resolved while the plugin is relocated, before ThreadSanitizer's runtime
// can run the resolver.
__attribute__((target_clones("avx2", "default"))) void scale_16bit(const float* x, float* buf, int64_t n) {
  for (int64_t k = 0; k < n; ++k) buf[k] = x[k] * 32768.0f;  // Kaldi reads 16-bit samples as integers
}

__attribute__((target_clones("avx2", "default"))) void remove_mean(float* buf, int64_t n) {
  const double mean = sum8(buf, n, [](double v) { return v; }) / static_cast<double>(n);
  for (int64_t k = 0; k < n; ++k) buf[k] = static_cast<float>(buf[k] - mean);
}

// x[t] − c·x[t−1] (x[−1] = x[0]), times the window, then zeros to `padded`.
__attribute__((target_clones("avx2", "default"))) void preemphasize_window_pad(float* buf, int64_t n, int64_t padded,
                                                                                float c, const float* window) {
  if (c != 0.0f) {
    for (int64_t k = n - 1; k >= 1; --k) buf[k] -= c * buf[k - 1];
    buf[0] -= c * buf[0];
  }
  for (int64_t k = 0; k < n; ++k) buf[k] *= window[k];
  for (int64_t k = n; k < padded; ++k) buf[k] = 0.0f;
}

__attribute__((target_clones("avx2", "default"))) void power_spectrum(const fftwf_complex* X, float* p, int64_t bins) {
  for (int64_t k = 0; k < bins; ++k) p[k] = X[k][0] * X[k][0] + X[k][1] * X[k][1];
}

}  // namespace

double KaldiFrontend::log_energy(const float* x, int64_t n) const {
  const double e = sum8(x, n, [](double v) { return v * v; });
  double le = std::log(std::max(e, static_cast<double>(std::numeric_limits<float>::epsilon())));
  if (energy_floor_ > 0.0) le = std::max(le, std::log(energy_floor_));
  return le;
}

double KaldiFrontend::frame(const float* x, size_t channel) {
  float* buf = fft_->input();
  scale_16bit(x, buf, size_);
  if (o_.dither != 0.0) {
    const float d = static_cast<float>(o_.dither);
    for (int64_t k = 0; k < size_; ++k) buf[k] += d * gauss(channel);
  }
  if (o_.remove_dc) remove_mean(buf, size_);
  double le = 0.0;
  if (energy_ == Energy::raw) le = log_energy(buf, size_);
  preemphasize_window_pad(buf, size_, padded_, o_.preemph, window_.data());
  if (energy_ == Energy::windowed) le = log_energy(buf, padded_);
  fft_->run();
  const fftwf_complex* X = fft_->output();
  const int64_t half = padded_ / 2;
  if (spectrum_ == Spectrum::packed_fft) {  // Kaldi's RealFft layout
    power_[0] = X[0][0];
    power_[1] = X[half][0];
    for (int64_t k = 1; k < half; ++k) {
      power_[static_cast<size_t>(2 * k)] = X[k][0];
      power_[static_cast<size_t>(2 * k + 1)] = X[k][1];
    }
    return le;
  }
  float* p = power_.data();
  power_spectrum(X, p, half + 1);
  if (spectrum_ == Spectrum::magnitude)
    for (int64_t k = 0; k <= half; ++k) p[k] = std::sqrt(p[k]);
  return le;
}

}  // namespace featpipe::audio
