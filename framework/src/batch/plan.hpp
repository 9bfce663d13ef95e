// Planning a batch run: which inputs this process takes and what to do with
// each, decided before any input is read. The result is a plain list the
// executors run and the tests inspect.
#pragma once

#include "inputs.hpp"
#include "resume_index.hpp"
#include "sink.hpp"

#include <string>
#include <vector>

namespace featpipe {

struct Job {
  enum class Action {
    run,   // process the input and store its features
    skip,  // --resume: an earlier run finished it
    fail,  // refused without reading it; `error` says why
  };
  std::string input;   // the path as found
  std::string rel;     // relative path kept under the output folder
  std::string output;  // the sink's name for it
  Action action = Action::run;
  std::string error;
  // A refusal that leaves a good output in place: its earlier ok line
  // stays true. A refused output that is stale or damaged loses its ok line.
  bool keeps_output = false;
  std::string key{};  // the wav.scp utterance id, "" for a path
  bool command = false;  // `input` is a piped command (`CMD |`) whose stdout is the audio
};

struct PlanOptions {
  int shard_index = 0, shard_count = 1;
  bool resume = false;     // skip outputs that `done` lists, unchanged since
  bool overwrite = false;  // replace existing outputs
};

struct Plan {
  std::vector<Job> jobs;  // in listing order
  size_t not_taken = 0;   // files in folders the first step does not read
  std::vector<NotTaken> not_taken_list;  // all not taken, with why (every shard lists them all)
};

// Whether `rel` belongs to shard `index` of `count`: a stable hash, so every
// machine and build agrees.
bool in_shard(const std::string& rel, int index, int count);

// From listed inputs: keeps this shard's, then per input, in order:
//  - an output already planned for an earlier input: fail (naming it);
//  - an existing output: skip when resuming and `done` lists it as ok with
//    the input and output unchanged since (ResumeIndex::stale), fail when
//    neither resuming nor overwriting, else run;
//  - otherwise run.
Plan plan_jobs(InputList listed, const PlanOptions& o, const Sink& sink, const ResumeIndex& done);

// Refuses (throws Error listing every one) inputs whose outputs collide:
// the same relative path from two folders. Checked over all inputs, before
// sharding, so every shard refuses alike and before any work.
void refuse_collisions(const InputList& listed, const Sink& sink);

// list_inputs, then plan_jobs. Throws Error for an input path that does not exist.
Plan plan_run(const std::vector<std::string>& inputs, const std::vector<std::string>& extensions,
              const PlanOptions& o, const Sink& sink, const ResumeIndex& done);

}  // namespace featpipe
