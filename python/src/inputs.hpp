// In-memory inputs (numpy arrays) as the tensors a pipeline's first step
// takes, converted exactly as that step would read the same media from a
// file, so that pipe(array) and pipe(path) give the same bits.
#pragma once

#include "common.hpp"

#include <optional>
#include <vector>

namespace featpipe::python {

// What the first step is, and what of its parameters the conversion needs.
struct InputKind {
  enum { audio, image, tensor } kind = tensor;
  // image.decode: `scale` given (values pass raw: the stage divides), and
  // `color: gray` (the weights apply to unscaled values, as for files).
  bool image_scale_given = false;
  bool image_gray = false;
  std::vector<std::string> tensor_axes;  // tensor.load's `axes`, if given

  static InputKind of(const Pipeline& pipe);
};

// Samples as libsndfile reads them from a file: int16 / 32768, int32 /
// 2^31, floats as they are. [time] or [time, channel] (soundfile, scipy);
// the tensor is [channel, time] with the sample rate.
Tensor audio_input(const py::array& samples, double sample_rate);
// HWC (or HW) uint8 / uint16 / float, as PIL and cv2 give (RGB order):
// [channel, height, width].
Tensor image_input(const py::array& pixels, const InputKind& kind, bool channels_first);
// Any numeric array as float32, axes as named (default as tensor.load names
// a file's: [row, col] for 2-D, [axis0, ...] otherwise).
Tensor tensor_input(const py::array& values, const InputKind& kind, const std::optional<std::vector<std::string>>& axes,
                    std::optional<double> sample_rate);

}  // namespace featpipe::python
