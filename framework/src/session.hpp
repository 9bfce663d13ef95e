// Session internals: moving data through one thread's stage instances.
#pragma once

#include "engine.hpp"
#include "frame_buffer.hpp"

#include <functional>

namespace featpipe {

struct Session::Impl {
  explicit Impl(std::shared_ptr<const Pipeline> pipe);

  std::shared_ptr<const Pipeline> keep;  // the steps outlive the session
  const PipelineImpl& p;
  std::vector<StageHandle> stages;
  std::vector<sdk::Spec> specs;  // each step's concrete output for this input

  // Where final chunks go: accumulated into `result` unless `on_output` is set.
  std::function<void(const fp_tensor&, const sdk::Spec&)> on_output;
  bool check_each = false;       // check every step's output for NaN/Inf
  bool saw_nonfinite = false;
  double source_samples = 0;     // along the source's stream axis
  double media_seconds = 0;
  std::vector<float> input_copy;  // Session::run(TensorView)'s, reused

  // Starting an input: from a file (source step) or from a tensor spec.
  void begin_file(const std::string& path);
  // One file through every step, its output to sink(); chunked when the
  // pipeline streams files. Run again checking each step when the output
  // held a NaN or Inf, to name the step (`before_rerun` first), then throws.
  void run_file_checked(const std::string& path, const std::function<void()>& before_rerun);
  void begin(const sdk::Spec& in);
  // Push into step k (k == steps: the sink).
  void push(size_t k, fp_tensor& t);
  // Flush steps k.. in order, pushing what each emits downstream.
  void finish(size_t k);
  // Throws naming step k when `t` (its output) holds a NaN or Inf.
  void check_finite(const fp_tensor& t, size_t k) const;

  // Batch result assembly.
  void reset_result();
  Tensor take_result();
  // The result's axes and attributes (no shape, no data).
  Tensor result_header() const;

 private:
  void run_file_once(const std::string& path);
  void start_from(size_t k);
  const fp_source_chunks* chunks_ = nullptr;  // the source's, when the pipeline streams files
  void sink(const fp_tensor& t);
  FrameBuffer result_;
  // Whole-input steps (fp_stream_info.whole_input): their input, joined
  // along the stream axis and pushed once at the end.
  std::vector<FrameBuffer> whole_;
  std::vector<float> joined_;
  sdk::Spec in_;  // the input spec given to begin()
};

using SessionImpl = Internal::SessionImpl;

}  // namespace featpipe
