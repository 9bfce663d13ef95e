// Shared by the norm.* and math.* stages: which part of a tensor a stage
// reduces over (one axis or `all`), how a tensor splits into slices along
// it, and buffering of a stream for stages that need the whole input.
#pragma once

#include <featpipe/sdk.hpp>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace featpipe::norm {

// The axis a stage works along: an index, or every axis (`all`).
struct AxisChoice {
  bool all = false;
  int index = -1;
};

// "all", an axis name, or an integer (negative from the end).
inline AxisChoice resolve_axis(const sdk::Spec& in, const std::string& text, const char* param) {
  if (text == "all") return {true, -1};
  return {false, in.resolve_axis(text, param)};
}

// True when working along `a` needs every frame of a stream before it can
// emit anything (the reduction spans the stream axis).
inline bool spans_stream(const sdk::Spec& in, const AxisChoice& a) {
  return in.stream_axis() >= 0 && (a.all || a.index == in.stream_axis());
}

// A tensor seen as [outer, len, inner]: `outer` independent blocks, each
// holding `inner` slices of `len` elements at stride `inner`.
struct Layout {
  int64_t outer = 1, len = 1, inner = 1;
};

inline Layout layout_of(const fp_tensor& t, const AxisChoice& a) {
  if (a.all) return {1, sdk::numel(t), 1};
  return {sdk::span_of(t, 0, a.index), t.shape[a.index], sdk::span_of(t, a.index + 1, t.rank)};
}

// Collects the chunks of a stream (along `axis`) and joins them at the end,
// for stages that need the whole input. Batch input is one chunk.
class StreamBuffer {
 public:
  void clear() {
    chunks_.clear();
    lengths_.clear();
    total_ = 0;
    have_ = false;
  }
  bool empty() const { return !have_; }

  void add(const fp_tensor& in, int axis) {
    if (!have_) {
      like_ = in;
      like_.data = nullptr;
      axis_ = axis;
      have_ = true;
    }
    const int64_t n = sdk::numel(in);
    if (n == 0) return;
    chunks_.emplace_back(in.data, in.data + n);
    lengths_.push_back(in.shape[axis]);
    total_ += in.shape[axis];
  }

  // The whole input as one tensor over storage kept in `joined` (valid
  // until the next call); the buffer is empty afterwards.
  fp_tensor take(std::vector<float>& joined) {
    fp_tensor t = like_;
    t.shape[axis_] = total_;
    if (chunks_.size() == 1) {
      joined.swap(chunks_.front());
    } else {
      joined.resize(static_cast<size_t>(sdk::numel(t)));
      const int64_t outer = sdk::span_of(t, 0, axis_), inner = sdk::span_of(t, axis_ + 1, t.rank);
      int64_t at = 0;  // position along the axis
      for (size_t c = 0; c < chunks_.size(); ++c) {
        const int64_t len = lengths_[c];
        for (int64_t o = 0; o < outer; ++o)
          std::copy_n(chunks_[c].data() + o * len * inner, len * inner,
                      joined.data() + (o * total_ + at) * inner);
        at += len;
      }
    }
    t.data = joined.data();
    clear();
    return t;
  }

 private:
  std::vector<std::vector<float>> chunks_;
  std::vector<int64_t> lengths_;
  fp_tensor like_{};
  int axis_ = 0;
  int64_t total_ = 0;
  bool have_ = false;
};

// Base of stages that transform every slice along one axis (or the whole
// tensor) in place: norm.l2, norm.minmax, norm.standardize. Per frame they
// stream (hop 1); along the stream axis, or over `all` when the input has
// one, they buffer the input and emit it at flush (whole_input).
class SliceStage : public sdk::Stage {
 public:
  explicit SliceStage(std::string axis) : axis_text_(std::move(axis)) {}

  sdk::Spec configure(const sdk::Spec& in, fp_stream_info& info) override {
    axis_ = resolve_axis(in, axis_text_, "axis");
    whole_ = spans_stream(in, axis_);
    info.whole_input = whole_ ? 1 : 0;
    info.hop = in.stream_axis() >= 0 ? 1 : 0;
    stream_axis_ = in.stream_axis();
    return in;
  }
  void reset() override { pending_.clear(); }

  void push(fp_tensor& in, fp_tensor& out) override {
    if (whole_) {
      pending_.add(in, stream_axis_);
      out = in;
      out.data = nullptr;
      out.shape[stream_axis_] = 0;
      return;
    }
    apply(in.data, layout_of(in, axis_));
    out = in;  // in place
  }
  void flush(fp_tensor& out) override {
    out = fp_tensor{};
    if (!whole_ || pending_.empty()) return;
    out = pending_.take(joined_);
    apply(out.data, layout_of(out, axis_));
  }

 protected:
  // Transforms every slice of `data` seen as `l`, in place.
  virtual void apply(float* data, const Layout& l) = 0;

 private:
  std::string axis_text_;
  AxisChoice axis_;
  bool whole_ = false;
  int stream_axis_ = -1;
  StreamBuffer pending_;
  std::vector<float> joined_;
};

}  // namespace featpipe::norm
