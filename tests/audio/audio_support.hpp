// Helpers for the audio tests: running pipelines on files and tensors,
// reading goldens, and driving a stage directly through the plugin's C ABI
// (for chunk-size invariance, before the engine's streaming API exists).
#pragma once

#include <featpipe/featpipe.hpp>
#include <featpipe/npy.hpp>
#include <featpipe/sdk.hpp>

#include <map>
#include <string>
#include <vector>

#include "test_support.hpp"

namespace featpipe::test {

// Runs "stages:" YAML lines on a file (pipeline starting with audio.decode).
Tensor run_file_steps(const std::string& steps, const fs::path& file);
// Runs steps on an in-memory tensor; the stream axis is the one named
// `stream` (or none when empty).
Tensor run_tensor_steps(const std::string& steps, const Tensor& input, const std::string& stream);

Tensor tensor(std::vector<int64_t> shape, std::vector<std::string> axes, std::vector<float> data,
              std::map<std::string, double> attrs = {});

// tests/audio/golden (or another folder written by make_golden.py).
fs::path golden_dir();
struct Tolerance {
  double tol = 0;
  double ref_max = 0;
};
// "signal stage" -> tolerance, from <dir>/tolerances.txt.
std::map<std::string, Tolerance> read_tolerances(const fs::path& dir);

// A 16-bit WAV/any libsndfile format writer for generated inputs.
// `format` is SF_FORMAT_* (major | subtype); data interleaved.
void write_audio(const fs::path& p, int format, int rate, int channels, const std::vector<float>& interleaved);

// (stage name, example YAML step) for every stage of the audio plugin.
std::vector<std::pair<std::string, std::string>> audio_stage_examples();

// One stage instance created through the plugin's C entry point.
class AbiStage {
 public:
  // `params`: YAML text of overridden values by name ("512", "true", "hann").
  AbiStage(const std::string& name, const std::map<std::string, std::string>& params);
  ~AbiStage();
  AbiStage(const AbiStage&) = delete;
  AbiStage& operator=(const AbiStage&) = delete;

  sdk::Spec start(const sdk::Spec& in);
  // configure() alone: the stream info the stage declares for `in`.
  fp_stream_info stream_info(const sdk::Spec& in);
  // Pushes `in` cut into chunks of `chunk` along `axis` (0: one push), then
  // flushes; returns every output concatenated along `out_axis`.
  npy::Array run(const npy::Array& in, int axis, int64_t chunk, int out_axis);
  std::string last_error() const;

 private:
  fp_stage* st_ = nullptr;
};

}  // namespace featpipe::test
