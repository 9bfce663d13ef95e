#include "inputs.hpp"

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstring>

namespace featpipe::python {

namespace {

// The values of `a` (any layout) as a C-contiguous array of T.
template <class T>
py::array_t<T, py::array::c_style> contiguous(const py::array& a) {
  return py::array_t<T, py::array::c_style>::ensure(a);
}

std::string dtype_name(const py::array& a) { return py::str(a.dtype()).cast<std::string>(); }

// rows x cols interleaved (row-major) values times `mul`, to planar [cols][rows].
template <class T>
void deinterleave(const T* src, int64_t rows, int64_t cols, float mul, float* dst) {
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) dst[c * rows + r] = static_cast<float>(src[r * cols + c]) * mul;
}

template <class T>
void audio_planes(const py::array& a, float mul, int64_t frames, int64_t channels, float* dst) {
  auto c = contiguous<T>(a);
  deinterleave(c.data(), frames, channels, mul, dst);
}

}  // namespace

InputKind InputKind::of(const Pipeline& pipe) {
  InputKind k;
  const StepInfo& first = pipe.steps().front();
  const auto params = nlohmann::json::parse(first.params_json);
  if (first.use == "audio.decode") {
    k.kind = audio;
  } else if (first.use == "image.decode") {
    k.kind = image;
    k.image_scale_given = params.contains("scale") && !params["scale"].is_null();
    k.image_gray = params.value("color", std::string("rgb")) == "gray";
  } else if (first.use == "tensor.load" && params.contains("axes") && params["axes"].is_array()) {
    for (const auto& a : params["axes"]) k.tensor_axes.push_back(a.get<std::string>());
  }
  return k;
}

Tensor audio_input(const py::array& a, double sample_rate) {
  if (!std::isfinite(sample_rate) || sample_rate <= 0)
    throw py::value_error("in-memory audio needs sample_rate=<Hz> (a positive number)");
  if (a.ndim() != 1 && a.ndim() != 2)
    throw py::value_error("audio samples must be [time] or [time, channel]; got " + std::to_string(a.ndim()) +
                          " dimensions");
  const int64_t frames = a.shape(0);
  const int64_t channels = a.ndim() == 2 ? a.shape(1) : 1;
  if (a.ndim() == 2 && channels > frames)
    throw py::value_error("audio samples are [time, channel], and this array has " + std::to_string(channels) +
                          " channels of " + std::to_string(frames) +
                          " samples: for [channel, time] (torchaudio.load) pass its transpose, x.T");
  if (channels < 1) throw py::value_error("audio samples have 0 channels");
  Tensor t;
  if (channels == 1) {
    t.shape = {frames};
    t.axes = {"time"};
  } else {
    t.shape = {channels, frames};
    t.axes = {"channel", "time"};
  }
  t.attrs["sample_rate"] = sample_rate;
  t.data.resize(static_cast<size_t>(frames * channels));
  float* dst = t.data.data();
  // As libsndfile's normalized float read of the same PCM.
  if (a.dtype().is(py::dtype::of<int16_t>())) audio_planes<int16_t>(a, 1.0f / 32768.0f, frames, channels, dst);
  else if (a.dtype().is(py::dtype::of<int32_t>())) audio_planes<int32_t>(a, 1.0f / 2147483648.0f, frames, channels, dst);
  else if (a.dtype().is(py::dtype::of<float>())) audio_planes<float>(a, 1.0f, frames, channels, dst);
  else if (a.dtype().is(py::dtype::of<double>())) audio_planes<double>(a, 1.0f, frames, channels, dst);
  else
    throw py::type_error("audio samples must be int16, int32, float32 or float64; got " + dtype_name(a));
  return t;
}

namespace {

template <class T>
void image_planes(const py::array& a, int64_t h, int64_t w, int64_t c, bool channels_first, const InputKind& kind,
                  float mul, Tensor& t) {
  auto arr = contiguous<T>(a);
  const T* src = arr.data();
  const int64_t n = h * w;
  // The value of channel `ch` at pixel `k`.
  auto at = [&](int64_t ch, int64_t k) { return static_cast<float>(channels_first ? src[ch * n + k] : src[k * c + ch]); };
  if (kind.image_gray && c >= 3 && !kind.image_scale_given) {
    // As image.decode does for files: the weights on unscaled values, then
    // the division (the stage then multiplies by 1, exactly).
    t.shape = {1, h, w};
    t.data.resize(static_cast<size_t>(n));
    for (int64_t k = 0; k < n; ++k)
      t.data[static_cast<size_t>(k)] = (0.299f * at(0, k) + 0.587f * at(1, k) + 0.114f * at(2, k)) * mul;
    return;
  }
  t.shape = {c, h, w};
  t.data.resize(static_cast<size_t>(n * c));
  float* dst = t.data.data();
  if (channels_first) {
    for (int64_t k = 0; k < n * c; ++k) dst[k] = static_cast<float>(src[k]) * mul;
  } else {
    deinterleave(src, n, c, mul, dst);
  }
}

}  // namespace

Tensor image_input(const py::array& a, const InputKind& kind, bool channels_first) {
  int64_t h, w, c;
  if (a.ndim() == 2) {
    h = a.shape(0), w = a.shape(1), c = 1;
  } else if (a.ndim() == 3) {
    c = channels_first ? a.shape(0) : a.shape(2);
    h = channels_first ? a.shape(1) : a.shape(0);
    w = channels_first ? a.shape(2) : a.shape(1);
  } else {
    throw py::value_error("an image must be [height, width, channel] (PIL, cv2) or [height, width]; got " +
                          std::to_string(a.ndim()) + " dimensions");
  }
  if (c != 1 && c != 3 && c != 4)
    throw py::value_error("an image needs 1, 3 or 4 channels (gray, RGB, RGBA) on its " +
                          std::string(channels_first ? "first" : "last") + " axis; got " + std::to_string(c) +
                          (channels_first ? "" : " (for [channel, height, width] pass layout='chw')"));
  // image.decode divides a file's values by the type's maximum, unless the
  // pipeline gives `scale`: then it divides, and values pass raw.
  double div = 1.0;
  const bool u8 = a.dtype().is(py::dtype::of<uint8_t>()), u16 = a.dtype().is(py::dtype::of<uint16_t>());
  if (u8) div = 255.0;
  else if (u16) div = 65535.0;
  const float mul = kind.image_scale_given ? 1.0f : static_cast<float>(1.0 / div);
  Tensor t;
  t.axes = {"channel", "height", "width"};
  if (u8) image_planes<uint8_t>(a, h, w, c, channels_first, kind, mul, t);
  else if (u16) image_planes<uint16_t>(a, h, w, c, channels_first, kind, mul, t);
  else if (a.dtype().is(py::dtype::of<float>())) image_planes<float>(a, h, w, c, channels_first, kind, mul, t);
  else if (a.dtype().is(py::dtype::of<double>())) image_planes<double>(a, h, w, c, channels_first, kind, mul, t);
  else throw py::type_error("image pixels must be uint8, uint16, float32 or float64; got " + dtype_name(a));
  return t;
}

Tensor tensor_input(const py::array& a, const InputKind& kind, const std::optional<std::vector<std::string>>& axes,
                    std::optional<double> sample_rate) {
  Tensor t;
  const auto r = static_cast<size_t>(a.ndim());
  if (axes) {
    t.axes = *axes;
  } else if (!kind.tensor_axes.empty()) {
    t.axes = kind.tensor_axes;
  } else if (r == 2) {
    t.axes = {"row", "col"};
  } else {
    for (size_t k = 0; k < r; ++k) t.axes.push_back("axis" + std::to_string(k));
  }
  if (t.axes.size() != r)
    throw py::value_error(std::to_string(t.axes.size()) + " axis names for an array of " + std::to_string(r) +
                          " dimensions");
  if (a.dtype().kind() != 'f' && a.dtype().kind() != 'i' && a.dtype().kind() != 'u' && a.dtype().kind() != 'b')
    throw py::type_error("a tensor must hold numbers; got " + dtype_name(a));
  auto f = py::array_t<float, py::array::c_style | py::array::forcecast>::ensure(a);
  if (!f) throw py::error_already_set();
  for (size_t k = 0; k < r; ++k) t.shape.push_back(f.shape(static_cast<py::ssize_t>(k)));
  t.data.assign(f.data(), f.data() + f.size());
  if (sample_rate) t.attrs["sample_rate"] = *sample_rate;
  return t;
}

}  // namespace featpipe::python
