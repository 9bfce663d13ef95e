#include "plan.hpp"

#include "../util.hpp"
#include "names.hpp"

#include <featpipe/featpipe.hpp>

#include <unordered_map>

namespace featpipe {

bool in_shard(const std::string& rel, int index, int count) {
  if (count <= 1) return true;
  return util::fnv1a64(rel) % static_cast<uint64_t>(count) == static_cast<uint64_t>(index);
}

Plan plan_jobs(InputList listed, const PlanOptions& o, const Sink& sink, const ResumeIndex& done) {
  Plan plan;
  plan.not_taken = listed.not_taken;
  plan.not_taken_list = std::move(listed.not_taken_list);
  std::unordered_map<std::string, size_t> first_of;  // output -> its first job
  for (InputFile& f : listed.files) {
    if (!in_shard(f.rel, o.shard_index, o.shard_count)) continue;
    Job job;
    job.output = sink.output_of(f.rel);
    job.input = std::move(f.path);
    job.rel = std::move(f.rel);
    job.key = std::move(f.key);
    job.command = f.command;
    auto [it, fresh] = first_of.emplace(job.output, plan.jobs.size());
    if (!f.error.empty()) {
      job.action = Job::Action::fail;
      job.error = f.error;
    } else if (!fresh) {
      job.action = Job::Action::fail;
      job.error = "its output " + job.output + " is also that of " + plan.jobs[it->second].input + " (same relative path)";
      job.keeps_output = true;  // the output is the other input's
    } else if (sink.exists(job.output)) {
      if (o.resume && done.stale(job.output, job.input, sink).empty()) {
        job.action = Job::Action::skip;
      } else if (!o.resume && !o.overwrite) {
        job.action = Job::Action::fail;
        // Refused either way, but an output that no longer matches its
        // input (or was damaged) must not stay listed as ok.
        const std::string why = done.stale(job.output, job.input, sink);
        job.keeps_output = why.empty();
        // Out of date only when a line listed it: an output no manifest
        // knows is merely in the way.
        const bool listed = done.find(job.output) != nullptr;
        job.error = "output " + sink.describe(job.output) + " exists" +
                    (why.empty() || !listed ? "" : " but is out of date (" + why + ")") +
                    " (use --resume to skip finished inputs or --overwrite)";
      }
    }
    plan.jobs.push_back(std::move(job));
  }
  return plan;
}

void refuse_collisions(const InputList& listed, const Sink& sink) {
  std::unordered_map<std::string, size_t> first_of;  // output -> its first input
  std::string text;
  size_t n = 0;
  for (size_t k = 0; k < listed.files.size(); ++k) {
    const std::string out = sink.output_of(listed.files[k].rel);
    auto [it, fresh] = first_of.emplace(out, k);
    if (fresh) continue;
    ++n;
    text += "\n  " + util::printable(listed.files[it->second].path) + " and " + util::printable(listed.files[k].path) + " -> " +
            util::printable(out);
  }
  if (n)
    throw Error(std::to_string(n) + (n == 1 ? " input has" : " inputs have") +
                " the output of another (the same path relative to their folders); nothing was run:" + text);
}

Plan plan_run(const std::vector<std::string>& inputs, const std::vector<std::string>& extensions,
              const PlanOptions& o, const Sink& sink, const ResumeIndex& done) {
  return plan_jobs(list_inputs(inputs, extensions), o, sink, done);
}

}  // namespace featpipe
