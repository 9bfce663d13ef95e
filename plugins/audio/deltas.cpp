// audio.deltas — delta (and delta-delta ...) features along the frame axis,
// ≡ torchaudio.functional.compute_deltas (replicate padding), applied
// `order` times; with `append`, [x, Δx, Δ²x, ...] along the feature axis.
//
//   - use: audio.deltas
//     with: {order: 2, win_length: 5}
//
// Input [..., frame, feature], output [..., frame, feature·(order+1)] with
// append (only the order-th delta without). Δx[t] = Σ_{k=1..N} k·(x[t+k] −
// x[t−k]) / (2 Σ k²), N = (win_length−1)/2, frames beyond the edges
// replicate the first/last. Streams with a look-ahead of N frames per
// order: each order is computed incrementally, so chunked pushes give
// the same bits as one push.
#include "dsp.hpp"
#include "stages.hpp"

#include <deque>

namespace featpipe::audio {
namespace {

using sdk::check;

// One order of deltas over a stream of frames of `width` features.
class DeltaLevel {
 public:
  void configure(int64_t width, int64_t n) {
    width_ = width;
    n_ = n;
    denom_ = static_cast<float>(n * (n + 1) * (2 * n + 1)) / 3.0f;
    reset();
  }
  void reset() {
    buf_.clear();
    base_ = 0;
    frames_in_ = 0;
    next_ = 0;
  }
  // Adds `count` frames; appends every delta frame now computable to `out`.
  void push(const float* x, int64_t count, std::vector<float>& out) {
    if (count <= 0) return;
    if (frames_in_ == 0)  // left padding: n copies of the first frame
      for (int64_t k = 0; k < n_; ++k) buf_.insert(buf_.end(), x, x + width_);
    buf_.insert(buf_.end(), x, x + count * width_);
    frames_in_ += count;
    emit(frames_in_ - n_, out);
  }
  // End: n copies of the last frame, then the remaining delta frames.
  void flush(std::vector<float>& out) {
    if (frames_in_ == 0) return;
    const std::vector<float> last(buf_.end() - width_, buf_.end());
    for (int64_t k = 0; k < n_; ++k) buf_.insert(buf_.end(), last.begin(), last.end());
    emit(frames_in_, out);
  }

 private:
  // Emits frames t < limit (padded positions t .. t+2n are in buf_).
  void emit(int64_t limit, std::vector<float>& out) {
    while (next_ < limit) {
      const float* c = buf_.data() + (next_ + n_ - base_) * width_;  // frame t
      const size_t at = out.size();
      out.resize(at + static_cast<size_t>(width_));
      float* y = out.data() + at;
      for (int64_t f = 0; f < width_; ++f) {
        float acc = 0.0f;
        for (int64_t k = 1; k <= n_; ++k) acc += static_cast<float>(k) * (c[k * width_ + f] - c[-k * width_ + f]);
        y[f] = acc / denom_;
      }
      ++next_;
    }
    // Keep padded positions from next_ on (the 2n frames around the next t).
    if (next_ > base_) {
      buf_.erase(buf_.begin(), buf_.begin() + (next_ - base_) * width_);
      base_ = next_;
    }
  }

  int64_t width_ = 0, n_ = 2;
  float denom_ = 10.0f;
  std::vector<float> buf_;  // padded frames from padded position base_
  int64_t base_ = 0, frames_in_ = 0, next_ = 0;
};

// The cascade for one channel: x → Δ¹ → Δ² ..., and the frames waiting
// for their higher orders.
struct Chain {
  std::vector<DeltaLevel> levels;
  std::vector<std::deque<float>> pending;  // [0]: x, [i]: Δ^i
};

class Deltas final : public sdk::Stage, public sdk::StageDefaults {
 public:
  static constexpr const char* kName = "audio.deltas";
  static constexpr const char* kDoc =
      "deltas along the frame axis (replicate padding) ≡ torchaudio.functional.compute_deltas; "
      "append: [x, Δx, Δ²x] along the feature axis";
  static constexpr const char* kExample = "- use: audio.deltas\n  with: {order: 2, win_length: 5}";
  static constexpr fp_param_desc kParams[] = {
      sdk::Param::Int("order", "2").range(1, 8).doc("highest delta order"),
      sdk::Param::Int("win_length", "5").range(3, 1001).unit("frames").doc("regression window (odd; N = (w-1)/2)"),
      sdk::Param::Bool("append", "true").doc("output [x, Δx, ..., Δ^order x]; false: only Δ^order x"),
  };

  explicit Deltas(const sdk::Params& p)
      : order_(p.i("order")), n_((p.i("win_length") - 1) / 2), append_(p.b("append")) {}

  sdk::Spec configure(const sdk::Spec& in, fp_stream_info& info) override {
    check(in.rank() >= 2, nullptr, "audio.deltas takes features [..., frame, feature], got ", in.axes_text());
    const int fa = in.rank() - 1;
    width_ = in.dim(fa);  // -1 until data (e.g. after tensor.load)
    sdk::Spec out = in;
    out.set_dim(fa, width_ < 0 ? -1 : append_ ? width_ * (order_ + 1) : width_);
    info.hop = in.stream_axis() >= 0 ? 1.0 : 0.0;
    info.lookahead = n_ * order_;
    info.history = n_ * order_;
    return out;
  }

  void reset() override { chains_.clear(); }

  void push(fp_tensor& in, fp_tensor& out) override {
    const int64_t frames = in.shape[in.rank - 2];
    const int64_t channels = leading_count(in, 2);
    if (in.shape[in.rank - 1] != width_) {
      check(chains_.empty(), nullptr, "audio.deltas: the feature size changed within one input");
      width_ = in.shape[in.rank - 1];
    }
    ensure(channels);
    out_.clear();
    int64_t made = 0;
    for (int64_t c = 0; c < channels; ++c)
      made = feed(chains_[static_cast<size_t>(c)], in.data + c * frames * width_, frames, false);
    shape_out(in, made, out);
  }

  void flush(fp_tensor& out) override {
    out_.clear();
    int64_t made = 0;
    for (Chain& ch : chains_) made = feed(ch, nullptr, 0, true);
    fp_tensor like{};
    like.rank = static_cast<int32_t>(lead_.size()) + 2;
    for (size_t k = 0; k < lead_.size(); ++k) like.shape[k] = lead_[k];
    shape_out(like, made, out);
  }

 private:
  void ensure(int64_t channels) {
    if (static_cast<int64_t>(chains_.size()) == channels) return;
    chains_.assign(static_cast<size_t>(channels), Chain{});
    for (Chain& ch : chains_) {
      ch.levels.resize(static_cast<size_t>(order_));
      for (DeltaLevel& l : ch.levels) l.configure(width_, n_);
      ch.pending.resize(static_cast<size_t>(order_ + 1));
    }
  }

  // Runs `frames` frames (or the end) through the cascade; appends the
  // frames complete in every order to out_; returns their number.
  int64_t feed(Chain& ch, const float* x, int64_t frames, bool end) {
    std::vector<float> cur(x, x + frames * width_), next;
    if (!end) ch.pending[0].insert(ch.pending[0].end(), cur.begin(), cur.end());
    for (int64_t i = 0; i < order_; ++i) {
      next.clear();
      DeltaLevel& l = ch.levels[static_cast<size_t>(i)];
      l.push(cur.data(), static_cast<int64_t>(cur.size()) / width_, next);
      if (end) l.flush(next);
      ch.pending[static_cast<size_t>(i + 1)].insert(ch.pending[static_cast<size_t>(i + 1)].end(), next.begin(),
                                                    next.end());
      cur.swap(next);
    }
    const int64_t ready = static_cast<int64_t>(ch.pending[static_cast<size_t>(order_)].size()) / width_;
    for (int64_t t = 0; t < ready; ++t)
      for (int64_t i = 0; i <= order_; ++i) {
        auto& q = ch.pending[static_cast<size_t>(i)];
        if (append_ || i == order_) out_.insert(out_.end(), q.begin(), q.begin() + width_);
        q.erase(q.begin(), q.begin() + width_);
      }
    return ready;
  }

  void shape_out(const fp_tensor& in, int64_t frames, fp_tensor& out) {
    lead_.assign(in.shape, in.shape + (in.rank - 2));
    out = in;
    out.data = out_.data();
    out.shape[in.rank - 2] = frames;
    out.shape[in.rank - 1] = append_ ? width_ * (order_ + 1) : width_;
  }

  int64_t order_, n_;
  bool append_;
  int64_t width_ = 0;
  std::vector<Chain> chains_;
  std::vector<float> out_;
  std::vector<int64_t> lead_;
};

}  // namespace

fp_stage_desc deltas_stage() { return sdk::stage<Deltas>(); }

}  // namespace featpipe::audio
