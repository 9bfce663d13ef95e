// Base of the norm.* stages that transform every slice along one axis (or
// the whole tensor) in place: norm.l2, norm.minmax, norm.standardize.
#pragma once

#include <featpipe/sdk.hpp>
#include <featpipe/sdk_axes.hpp>

#include <string>
#include <utility>

namespace featpipe::norm {

using sdk::Layout;

// Per frame they stream (hop 1); along the stream axis, or over `all` when
// the input has one, they declare whole_input and the engine hands them the
// whole input in one push.
class SliceStage : public sdk::Stage {
 public:
  explicit SliceStage(std::string axis) : axis_text_(std::move(axis)) {}

  sdk::Spec configure(const sdk::Spec& in, fp_stream_info& info) override {
    axis_ = sdk::resolve_axis_choice(in, axis_text_, "axis");
    info.whole_input = sdk::spans_stream(in, axis_) ? 1 : 0;
    info.whole_input_reason = "axis spans the stream axis, so each slice holds every frame: normalize along another axis (e.g. axis: -1) to stream";
    info.hop = in.stream_axis() >= 0 ? 1 : 0;
    return in;
  }

  void push(fp_tensor& in, fp_tensor& out) override {
    apply(in.data, sdk::layout_of(in, axis_));
    out = in;  // in place
  }

 protected:
  // Transforms every slice of `data` seen as `l`, in place.
  virtual void apply(float* data, const Layout& l) = 0;

 private:
  std::string axis_text_;
  sdk::AxisChoice axis_;
};

}  // namespace featpipe::norm
