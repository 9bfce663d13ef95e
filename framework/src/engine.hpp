// The engine's inside: a loaded pipeline (steps with resolved parameters and
// agreed specs) and a session (stage instances of one thread).
#pragma once

#include <featpipe/featpipe.hpp>
#include <featpipe/sdk.hpp>

#include "params.hpp"
#include "plugin_registry.hpp"

#include <memory>
#include <string>
#include <vector>

namespace featpipe {

struct StepDef {
  std::string use, id;
  YAML::Mark mark;              // of the step's `use`
  const StageEntry* stage = nullptr;
  ResolvedParams params;
  sdk::Spec in, out;            // agreed at load time
  fp_stream_info stream{};
  bool chunked_files = false;   // a source offering featpipe.source_chunks/1
  std::string context;          // "step 2 'audio.stft'"
  // file:line:col of `param` when the step has it, else of the step.
  std::string where_param(const std::string& file, const char* param) const;
};

// Immutable once loaded (Pipeline holds it as const): sessions on any number
// of threads read it at once.
struct Pipeline::Impl {
  std::string file;             // path as given, for messages
  std::string base_dir;
  std::string text;             // the file's content (hashed for provenance)
  std::string name;
  StageSet stages;
  std::vector<StepDef> steps;
  std::vector<StepInfo> infos;
  bool source = false;
  std::optional<size_t> batch_only;
  // Files are decoded in chunks (Session::run_file): the source can and no
  // step needs the whole input.
  bool chunked_files = false;
  double latency = 0;
  std::vector<std::string> warnings;  // what loads but deserves a look (see Pipeline::warnings)
};

// How engine code reaches the implementations behind the public classes
// (the header declares this friend; only framework/src defines it).
struct Internal {
  using PipelineImpl = Pipeline::Impl;
  using SessionImpl = Session::Impl;
  static const PipelineImpl& of(const Pipeline& p) { return *p.impl_; }
  static SessionImpl& of(Session& s) { return *s.impl_; }
  static std::shared_ptr<const Pipeline> make(std::unique_ptr<const PipelineImpl> impl) {
    return std::shared_ptr<const Pipeline>(new Pipeline(std::move(impl)));
  }
  static std::unique_ptr<Session> make(std::unique_ptr<SessionImpl> impl);  // in instance.cpp
};
using PipelineImpl = Internal::PipelineImpl;

// Owns one fp_stage instance; turns its failures into Errors with context.
class StageHandle {
 public:
  // `file`: the pipeline file, named if the stage cannot be created.
  StageHandle(const StepDef& def, const std::string& file);
  ~StageHandle();
  StageHandle(StageHandle&&) noexcept;
  StageHandle(const StageHandle&) = delete;

  fp_stage* get() const { return st_; }
  const StepDef& def() const { return *def_; }
  // Throws Error("<context>: <message>") when `status` is FP_ERROR.
  void check(fp_status status) const;

 private:
  fp_stage* st_ = nullptr;
  const StepDef* def_ = nullptr;
};

// Look-ahead of steps from..end in units of step `from`'s input; NaN when a
// step cannot tell its hop before data flows.
double stream_latency(const std::vector<StepDef>& steps, size_t from);

// Builds steps: resolves stages and parameters, configures the chain.
void load_pipeline(PipelineImpl& p, const std::string& yaml_text, const LoadOptions& opts);

}  // namespace featpipe
