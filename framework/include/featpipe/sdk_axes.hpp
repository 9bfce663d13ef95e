// featpipe stage SDK — the part of a tensor a stage works along: one axis
// or every axis (`all`), and how a tensor splits into slices along it.
// For stages with an FP_T_AXIS parameter that reduce or transform slices
// (norm.l2, math.pool, ...).
#pragma once

#include <featpipe/sdk.hpp>

#include <cstdint>
#include <string>

namespace featpipe::sdk {

// The axis a stage works along: an index, or every axis (`all`).
struct AxisChoice {
  bool all = false;
  int index = -1;
};

// "all", an axis name, or an integer (negative from the end); throws Error
// naming `param` otherwise.
inline AxisChoice resolve_axis_choice(const Spec& in, const std::string& text, const char* param) {
  if (text == "all") return {true, -1};
  return {false, in.resolve_axis(text, param)};
}

// True when working along `a` needs every frame of a stream before it can
// emit anything (it spans the stream axis): such a stage declares
// whole_input.
inline bool spans_stream(const Spec& in, const AxisChoice& a) {
  return in.stream_axis() >= 0 && (a.all || a.index == in.stream_axis());
}

// A tensor seen as [outer, len, inner]: `outer` independent blocks, each
// holding `inner` slices of `len` elements at stride `inner`.
struct Layout {
  int64_t outer = 1, len = 1, inner = 1;
};

inline Layout layout_of(const fp_tensor& t, const AxisChoice& a) {
  if (a.all) return {1, numel(t), 1};
  return {span_of(t, 0, a.index), t.shape[a.index], span_of(t, a.index + 1, t.rank)};
}

}  // namespace featpipe::sdk
