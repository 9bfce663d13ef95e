// featpipe — the C++ embedding API.
//
//   auto pipe = featpipe::Pipeline::load("pipelines/speech-logmel.yaml");
//   auto session = pipe->session();            // one per thread
//   featpipe::Tensor feats = session->run_file("x.wav");
//
// Thread-safety: a loaded Pipeline is immutable and may be shared by any
// number of threads; a Session (stage state, buffers) belongs to one thread
// at a time. Errors are featpipe::Error, whose message already carries the
// context (pipeline file:line:col, step, input file).
#pragma once

#include <featpipe/plugin.h>
#include <featpipe/sdk.hpp>
#include <featpipe/version.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

// Symbols of the engine library (built with hidden visibility).
#define FEATPIPE_API __attribute__((visibility("default")))

namespace featpipe {

// The one exception type of the framework.
class FEATPIPE_API Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A dense float32 row-major tensor with named axes and attributes.
struct Tensor {
  std::vector<int64_t> shape;
  std::vector<std::string> axes;
  std::vector<float> data;
  std::map<std::string, double> attrs;

  int64_t numel() const {
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    return n;
  }
};

struct LoadOptions {
  // Load the plugins built/installed with featpipe and those in
  // FEATPIPE_PLUGIN_PATH (the pipeline's own `plugins:` always load).
  bool builtin_plugins = true;
  // Extra plugin files, loaded after the pipeline's `plugins:`.
  std::vector<std::string> plugin_files;
  // For pipelines whose first step takes a tensor rather than a file: the
  // input's spec (axes, known sizes, attributes), checked at load time.
  std::optional<sdk::Spec> input;
};

// One step of a loaded pipeline, as configured.
struct StepInfo {
  std::string use;          // stage name, "audio.stft"
  std::string id;           // the step's `id`, or empty
  std::string where;        // "file.yaml:12:5"
  std::string plugin_file;  // the shared library providing the stage
  std::string plugin_version;
  std::string params_json;  // resolved parameters, defaults filled in
  sdk::Spec output;         // output spec agreed at load time
  fp_stream_info stream{};  // how it moves along the stream axis
  std::string description;  // extra text from the stage (model layers, ...)
};

class Session;

class FEATPIPE_API Pipeline : public std::enable_shared_from_this<Pipeline> {
 public:
  static std::shared_ptr<const Pipeline> load(const std::string& path, const LoadOptions& opts = {});
  // From text; `source_name` appears in messages, `base_dir` resolves paths.
  static std::shared_ptr<const Pipeline> parse(const std::string& yaml_text, const std::string& source_name,
                                               const std::string& base_dir, const LoadOptions& opts = {});
  ~Pipeline();

  const std::string& name() const;
  const std::string& file() const;
  const std::vector<StepInfo>& steps() const;
  bool has_source() const;                  // first step reads files
  std::vector<std::string> extensions() const;  // what it reads, lowercase
  // The first step that needs the whole input, or nullopt when streamable.
  std::optional<size_t> batch_only_step() const;
  // Look-ahead of the whole pipeline (its algorithmic latency in a stream),
  // in samples at the rate the first step outputs; NaN when a step can tell
  // it only once the sample rate is known.
  double latency_samples() const;
  // JSON: featpipe version, pipeline hash, steps with parameters, plugins.
  std::string provenance_json() const;

  // A new instance of every stage, for one thread.
  std::unique_ptr<Session> session() const;

  struct Impl;
  explicit Pipeline(std::unique_ptr<Impl> impl);
  const Impl& impl() const { return *impl_; }

 private:
  std::unique_ptr<Impl> impl_;
};

// One thread's instantiated pipeline. Buffers are reused across inputs.
class FEATPIPE_API Session {
 public:
  ~Session();
  // Decode and process one file (pipelines with a source step).
  Tensor run_file(const std::string& path);
  // Process an in-memory tensor: for a source step, raw data it accepts
  // (e.g. samples [time] or [channel, time] with attrs["sample_rate"]);
  // otherwise the first step's input.
  Tensor run(Tensor input);
  // Seconds of media in the last input (audio duration; 0 if unknown).
  double last_media_seconds() const;

  struct Impl;
  explicit Session(std::unique_ptr<Impl> impl);
  Impl& impl() { return *impl_; }

 private:
  std::unique_ptr<Impl> impl_;
};

// Feature frames handed out by a Stream: a view valid until the next call
// on that stream. Shape as the pipeline's output, with `frames()` along the
// stream axis.
struct FramesView {
  const float* data = nullptr;
  int32_t rank = 0;
  int64_t shape[FP_MAX_RANK] = {};
  int32_t stream_axis = 0;
  int64_t frames() const { return rank > 0 ? shape[stream_axis] : 0; }
  bool empty() const { return data == nullptr || frames() == 0; }
  int64_t numel() const {
    int64_t n = rank > 0 ? 1 : 0;
    for (int k = 0; k < rank; ++k) n *= shape[k];
    return n;
  }
};

struct StreamFormat {
  double sample_rate = 16000;  // of the pushed samples (the pipeline resamples)
  int channels = 1;            // interleaved channels per pushed frame
};

// A live stream through a pipeline: push capture buffers of any size,
// receive feature frames as soon as they are complete, flush at the end.
// The frames equal the batch result for the same samples, whatever the
// buffer sizes. One stream belongs to one thread at a time.
class FEATPIPE_API Stream {
 public:
  // Throws Error when a step needs the whole input (naming it) or the first
  // step does not take raw samples.
  Stream(std::shared_ptr<const Pipeline> pipeline, StreamFormat format);
  ~Stream();
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;

  // `frames` interleaved frames of `channels` samples, floats in [-1, 1] or
  // 16-bit integers. In steady state a push does not allocate.
  void push(const float* interleaved, size_t frames);
  void push_s16(const int16_t* interleaved, size_t frames);
  // The frames completed since the last pull (pull mode).
  FramesView pull();
  // Callback mode: called with each chunk as it completes, inside push and
  // flush; pull() then returns nothing. An empty function restores pull.
  void on_frames(std::function<void(const FramesView&)> callback);
  // End of input: completes the last frames (end padding).
  void flush();
  // A new input with the same format (state cleared, as a new file).
  void reset();

  std::vector<std::string> axes() const;  // of the output frames
  const Pipeline& pipeline() const;
  // Look-ahead in pushed samples (at the capture rate, the resampler's
  // delay included): how long after a sample is pushed its frame completes.
  double latency_samples() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// What `featpipe stages` shows: every stage the plugins provide.
struct ParamDoc {
  std::string name, type, default_value, unit, doc;  // default "(required)" if none
};
struct StageDoc {
  std::string name, doc, example, extensions;
  std::string plugin_name, plugin_version, plugin_file;
  std::vector<ParamDoc> params;
};
// The built-in plugins, FEATPIPE_PLUGIN_PATH, then `extra_plugins`; sorted
// by name. Throws Error for a plugin that does not load or a duplicate name.
FEATPIPE_API std::vector<StageDoc> available_stages(const std::vector<std::string>& extra_plugins = {});
// Writes DIR/featpipe-plugins.index: the stages of each plugin in DIR, so
// that pipelines load only the plugins they use. The build writes it for the
// built-in plugins; `featpipe index-plugins DIR` for a folder of your own.
FEATPIPE_API void write_plugin_index(const std::string& dir);
// Names close to `wanted` (for "did you mean" hints).
FEATPIPE_API std::vector<std::string> closest_names(const std::string& wanted, const std::vector<std::string>& names);

}  // namespace featpipe
