// The common body of the Kaldi feature stages (audio.fbank,
// audio.kaldi_mfcc, audio.kaldi_spectrogram): input [..., time] in [-1, 1]
// with attribute sample_rate, output [..., frame, <axis>], one row per
// frame from KaldiFrontend. Frame-wise, so they stream.
#pragma once

#include "kaldi_frontend.hpp"

#include <cmath>
#include <utility>

namespace featpipe::audio {

class KaldiStage : public sdk::Stage, public sdk::StageDefaults {
  // Appends one output row per frame; a stage with rows() gets the push's
  // frames together instead (kept here until rows_done()).
  auto emit() {
    return [this](int64_t, const float* spectrum, double log_energy) {
      if (batched()) {
        spectra_.insert(spectra_.end(), spectrum, spectrum + fe_.bins());
        energies_.push_back(log_energy);
        return;
      }
      const size_t at = out_.size();
      out_.resize(at + static_cast<size_t>(width()));
      row(spectrum, log_energy, out_.data() + at);
    };
  }

  void rows_done() {
    if (energies_.empty()) return;
    const auto n = static_cast<int64_t>(energies_.size());
    out_.resize(static_cast<size_t>(n * width()));
    rows(spectra_.data(), energies_.data(), n, out_.data());
    spectra_.clear();
    energies_.clear();
  }

 public:
  sdk::Spec configure(const sdk::Spec& in, fp_stream_info& info) override {
    sdk::check(in.rank() >= 1 && in.axis(in.rank() - 1) == "time", nullptr, name_, " takes a signal [..., time], got ",
               in.axes_text());
    const double rate = in.attr("sample_rate");
    if (std::isfinite(rate)) {
      fe_.build(rate);
      if (rate != tables_rate_) {
        build_tables(rate);
        tables_rate_ = rate;
      }
    }
    const int t = in.rank() - 1;
    sdk::Spec out = in;
    out.set_axis(t, "frame", fe_.built() && in.dim(t) >= 0 ? fe_.total_frames(in.dim(t)) : -1);
    out.append(axis_, width());
    out.set_stream_axis(t);
    if (fe_.built()) {
      out.set_attr("hop_length", static_cast<double>(fe_.shift()));
      info.hop = static_cast<double>(fe_.shift());
      info.lookahead = fe_.size();
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

  void reset() override { fe_.reset(); }

  void push(fp_tensor& in, fp_tensor& out) override {
    sdk::check(fe_.built(), nullptr, name_, ": the input has no sample_rate attribute");
    out_.clear();
    const int64_t frames = fe_.push(in.data, leading_count(in, 1), in.shape[in.rank - 1], emit());
    rows_done();
    lead_.assign(in.shape, in.shape + (in.rank - 1));
    make_out(frames, out);
  }

  void flush(fp_tensor& out) override {
    sdk::check(!fe_.empty(), nullptr, "no samples: the input is empty");
    out_.clear();
    const int64_t frames = fe_.flush(emit());
    rows_done();
    make_out(frames, out);
  }

 protected:
  KaldiStage(const char* name, const char* axis, KaldiFrontend fe) : name_(name), axis_(axis), fe_(std::move(fe)) {}

  // Output row width (-1 while unknown: before the sample rate is).
  virtual int64_t width() const = 0;
  // Tables that depend on the sample rate (the frontend is built).
  virtual void build_tables(double /*rate*/) {}
  // One frame: spectrum (fe_.bins() values) and log-energy to `width()` values.
  virtual void row(const float* spectrum, double log_energy, float* out) = 0;
  // Or all the frames of a push at once (`n` spectra of fe_.bins() values
  // one after the other) to `n` rows, when batched(): a filterbank is then
  // one matrix product over all frames (Bands::apply_rows, SIMD across
  // frames) instead of one scalar pass per frame.
  virtual bool batched() const { return false; }
  virtual void rows(const float* /*spectra*/, const double* /*log_energies*/, int64_t /*n*/, float* /*out*/) {}

  const char* name_;
  const char* axis_;
  KaldiFrontend fe_;

 private:
  void make_out(int64_t frames, fp_tensor& out) {
    out = fp_tensor{};
    out.data = out_.data();
    out.rank = static_cast<int32_t>(lead_.size()) + 2;
    for (size_t k = 0; k < lead_.size(); ++k) out.shape[k] = lead_[k];
    out.shape[lead_.size()] = frames;
    out.shape[lead_.size() + 1] = width();
  }

  double tables_rate_ = -1;
  std::vector<float> spectra_;    // batched(): the push's spectra
  std::vector<double> energies_;  // and log-energies
  std::vector<float> out_;
  std::vector<int64_t> lead_;
};

}  // namespace featpipe::audio
