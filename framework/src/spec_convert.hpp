// The public descriptions (TensorSpec, StreamInfo) and the plugin ABI's
// (fp_spec, fp_stream_info): the public header stays free of plugin.h.
#pragma once

#include <featpipe/featpipe.hpp>
#include <featpipe/sdk.hpp>

namespace featpipe {

static_assert(kMaxRank == FP_MAX_RANK, "FramesView holds shapes of the ABI's rank");

// Throws Error when the ABI cannot hold it (rank, name lengths, attributes).
inline sdk::Spec to_abi(const TensorSpec& t, const std::string& what) {
  if (t.shape.size() != t.axes.size())
    throw Error(what + ": " + std::to_string(t.axes.size()) + " axis names for " + std::to_string(t.shape.size()) +
                " dimensions");
  if (t.stream_axis < -1 || t.stream_axis >= t.rank())
    throw Error(what + ": stream axis " + std::to_string(t.stream_axis) + " out of range for " + t.axes_text());
  sdk::Spec s;
  try {
    for (size_t k = 0; k < t.axes.size(); ++k) s.append(t.axes[k], t.shape[k]);
    s.set_stream_axis(t.stream_axis);
    for (const auto& [key, value] : t.attrs) s.set_attr(key, value);
  } catch (const sdk::Error& e) {
    throw Error(what + ": " + e.what());
  }
  return s;
}

inline TensorSpec to_public(const sdk::Spec& s) {
  TensorSpec t;
  for (int k = 0; k < s.rank(); ++k) {
    t.axes.emplace_back(s.axis(k));
    t.shape.push_back(s.dim(k));
  }
  t.stream_axis = s.stream_axis();
  for (uint32_t k = 0; k < s.raw().attr_count; ++k) t.attrs[s.raw().attrs[k].key] = s.raw().attrs[k].value;
  return t;
}

inline StreamInfo to_public(const fp_stream_info& i) {
  const bool has_reason = FP_HAS_FIELD(&i, fp_stream_info, whole_input_reason) && i.whole_input_reason;
  return {i.whole_input != 0, i.hop, i.lookahead, i.history, has_reason ? i.whole_input_reason : ""};
}

}  // namespace featpipe
