// featpipe — the C++ embedding API. A complete program (tests/docs extracts
// it from this comment, builds it and runs it):
//
//   #include <featpipe/featpipe.hpp>
//
//   #include <cstdio>
//   #include <vector>
//
//   int main(int argc, char** argv) {  // app PIPELINE AUDIO_FILE, e.g. pipelines/speech-logmel.yaml x.wav
//     if (argc != 3) return 2;
//     auto pipe = featpipe::Pipeline::load(argv[1]);
//     auto session = pipe->session();  // one per thread
//     featpipe::Tensor feats = session->run_file(argv[2]);
//     std::printf("%s: %lld frames\n", argv[2], static_cast<long long>(feats.shape[0]));
//     // Or samples the caller holds (no copy into a Tensor needed): 1 s at 16 kHz
//     std::vector<float> samples(16000);
//     for (size_t k = 0; k < samples.size(); ++k) samples[k] = 0.01f * static_cast<float>(k % 100);
//     int64_t shape[] = {static_cast<int64_t>(samples.size())};
//     std::string axes[] = {"time"};
//     std::map<std::string, double> attrs = {{"sample_rate", 16000}};
//     feats = session->run(featpipe::TensorView{samples.data(), shape, axes, &attrs});
//     std::printf("samples: %lld frames\n", static_cast<long long>(feats.shape[0]));
//   }
//
// Thread-safety: a loaded Pipeline is immutable and may be shared by any
// number of threads; a Session (stage state, buffers) belongs to one thread
// at a time. Errors are featpipe::Error, whose message already carries the
// context (pipeline file:line:col, step, input file).
#pragma once

#include <featpipe/export.h>
#include <featpipe/version.h>

#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace featpipe {

// The one exception type of the framework.
class FEATPIPE_API Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A dense float32 row-major tensor with named axes and attributes.
struct TensorView;
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
  TensorView view() const;
};

// A tensor the caller owns (a numpy buffer, a camera frame), for
// Session::run without building a Tensor first. Nothing is kept.
struct TensorView {
  const float* data = nullptr;  // row-major, numel() values
  std::span<const int64_t> shape;
  std::span<const std::string> axes;  // one name per dimension
  const std::map<std::string, double>* attrs = nullptr;  // none when null

  int64_t numel() const {
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    return n;
  }
};

inline TensorView Tensor::view() const { return {data.data(), shape, axes, &attrs}; }

// What a tensor looks like without its data: the input a pipeline of
// tensors takes, and what each step gives.
struct TensorSpec {
  std::vector<std::string> axes;
  std::vector<int64_t> shape;           // -1: unknown until data flows (the stream axis, image sizes)
  int stream_axis = -1;                 // the axis that grows in a stream; -1: none
  std::map<std::string, double> attrs;  // sample_rate, ...; NaN: known only once data flows

  int rank() const { return static_cast<int>(axes.size()); }
  // The axis called `name`, or -1.
  int find(std::string_view name) const {
    for (size_t k = 0; k < axes.size(); ++k)
      if (axes[k] == name) return static_cast<int>(k);
    return -1;
  }
  // NaN when absent or unknown.
  double attr(const std::string& key) const {
    auto it = attrs.find(key);
    return it == attrs.end() ? std::numeric_limits<double>::quiet_NaN() : it->second;
  }
  // "[frame=?, mel=80]"
  std::string axes_text() const {
    std::string out = "[";
    for (size_t k = 0; k < axes.size(); ++k) {
      if (k) out += ", ";
      out += axes[k] + "=" + (k < shape.size() && shape[k] >= 0 ? std::to_string(shape[k]) : std::string("?"));
    }
    return out + "]";
  }
};

struct LoadOptions {
  // Load the plugins built/installed with featpipe and those in
  // FEATPIPE_PLUGIN_PATH (the pipeline's own `plugins:` always load).
  bool builtin_plugins = true;
  // Extra plugin files, loaded after the pipeline's `plugins:`.
  std::vector<std::string> plugin_files;
  // Loading a plugin runs its code, so a pipeline's `plugins:` load only from
  // under the pipeline file's folder, the built-in plugin folder,
  // FEATPIPE_PLUGIN_PATH, or one of these folders (CLI: --allow-plugin DIR);
  // others are refused before they are opened. `plugin_files` are trusted.
  std::vector<std::string> allowed_plugin_dirs;
  // For pipelines whose first step takes a tensor rather than a file: the
  // input's spec (axes, known sizes, attributes), checked at load time.
  std::optional<TensorSpec> input;
};

// How a step moves along the stream axis, as it declared at load time.
struct StreamInfo {
  bool whole_input = false;  // emits only once it has the whole input: refused in a stream
  double hop = 0;            // input units per output unit (STFT: hop_length); 0: no stream axis
  int64_t lookahead = 0;     // input units needed after an output's position
  int64_t history = 0;       // and before it
  std::string whole_input_reason;  // the stage's why and fix, when it said
};

// One step of a loaded pipeline, as configured.
struct StepInfo {
  std::string use;          // stage name, "audio.stft"
  std::string id;           // the step's `id`, or empty
  std::string where;        // "file.yaml:12:5"
  std::string plugin_file;  // the shared library providing the stage
  std::string plugin_version;
  std::string params_json;  // resolved parameters, defaults filled in
  TensorSpec output;        // output spec agreed at load time
  StreamInfo stream;        // how it moves along the stream axis
  std::string description;  // extra text from the stage (model layers, ...)
};

// Defined in the engine's sources: how they reach the implementations.
struct Internal;

class Session;
struct FramesView;

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
  // Whether Session::run_file reads a file in bounded chunks (its source
  // step can, and no step needs the whole input), so memory does not grow
  // with the file's length; else the file is decoded whole first.
  bool streams_files() const;
  // Look-ahead of the whole pipeline (its algorithmic latency in a stream),
  // in samples at the rate the first step outputs; NaN when a step can tell
  // it only once the sample rate is known.
  double latency_samples() const;
  // What loads but deserves a look, "file:line:col: step 1 '...': ...":
  // e.g. audio.decode without sample_rate (features depend on each file's rate).
  const std::vector<std::string>& warnings() const;
  // JSON: featpipe version, pipeline hash, steps with parameters, plugins.
  std::string provenance_json() const;

  // A new instance of every stage, for one thread.
  std::unique_ptr<Session> session() const;

 private:
  friend struct Internal;
  struct Impl;
  explicit Pipeline(std::unique_ptr<const Impl> impl);
  std::unique_ptr<const Impl> impl_;
};

// One thread's instantiated pipeline. Buffers are reused across inputs.
class FEATPIPE_API Session {
 public:
  ~Session();
  // Decode and process one file (pipelines with a source step).
  Tensor run_file(const std::string& path);
  // The same, handing each output chunk to `out` as it completes instead of
  // assembling it (frames along the output's stream axis, in order; a view
  // valid during the call): with Pipeline::streams_files(), memory stays
  // bounded whatever the file's length. Returns the result's axes, shape
  // and attributes, without data. `out` is not called for a failed input's
  // later chunks, but may have been called before it failed.
  Tensor run_file(const std::string& path, const std::function<void(const FramesView&)>& out);
  // Process an in-memory tensor: for a source step, raw data it accepts
  // (e.g. samples [time] or [channel, time] with attrs["sample_rate"]);
  // otherwise the first step's input. Stages work in place: a Tensor is
  // consumed as it is, a view copied once into the session's own buffer.
  Tensor run(Tensor input);
  Tensor run(const TensorView& input);
  // Seconds of media in the last input (audio duration; 0 if unknown).
  double last_media_seconds() const;

 private:
  friend struct Internal;
  struct Impl;
  explicit Session(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Feature frames handed out by a Stream: a view valid until the next call
// on that stream. Shape as the pipeline's output, with `frames()` along the
// stream axis.
inline constexpr int kMaxRank = 8;  // of any tensor in a pipeline
struct FramesView {
  const float* data = nullptr;
  int32_t rank = 0;
  int64_t shape[kMaxRank] = {};
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
  // The schema behind `type`, for `featpipe stages --json`.
  std::string kind;                  // bool int float string choice path axis axes ints floats
  std::vector<std::string> choices;  // kind "choice"
  std::optional<double> min, max;    // inclusive; absent: unbounded
  int min_count = 0, max_count = 0;  // lists' lengths; max_count 0: unbounded
  bool required = false, nullable = false;
};
struct StageDoc {
  std::string name, doc, example, extensions;
  std::string plugin_name, plugin_version, plugin_file;
  std::vector<ParamDoc> params;
  bool source = false;  // reads files: only a first step
};
// The built-in plugins, FEATPIPE_PLUGIN_PATH, then `extra_plugins`; sorted
// by name. Throws Error for a plugin that does not load or a duplicate name.
FEATPIPE_API std::vector<StageDoc> available_stages(const std::vector<std::string>& extra_plugins = {});
// Writes DIR/featpipe-plugins.index: the stages of each plugin in DIR, so
// that pipelines load only the plugins they use. The build writes it for the
// built-in plugins; `featpipe index-plugins DIR` for a folder of your own.
FEATPIPE_API void write_plugin_index(const std::string& dir);
// The folder the built-in plugins load from (beside the engine library).
FEATPIPE_API std::string builtin_plugin_folder();
// Names close to `wanted` (for "did you mean" hints).
FEATPIPE_API std::vector<std::string> closest_names(const std::string& wanted, const std::vector<std::string>& names);

}  // namespace featpipe
