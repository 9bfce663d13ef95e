// `featpipe run`: plan the jobs, then an executor runs them (one session per
// worker) into the .npy folder sink, each finished job appended to the
// manifest and counted.
#include <featpipe/runner.hpp>

#include "ark_sink.hpp"
#include "atomic_file.hpp"
#include "executor.hpp"
#include "input_list_file.hpp"
#include "job.hpp"
#include "library_threads.hpp"
#include "manifest.hpp"
#include "npy_float16_sink.hpp"
#include "npy_folder_sink.hpp"
#include "plan.hpp"
#include "progress_monitor.hpp"
#include "provenance.hpp"
#include "run_record.hpp"
#include "stale_tmp.hpp"
#include "tar_sink.hpp"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <functional>
#include <iostream>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

namespace fs = std::filesystem;

namespace featpipe {

namespace {

void prepare_outdir(const std::string& outdir) {
  std::error_code ec;
  fs::create_directories(outdir, ec);
  if (ec || !fs::is_directory(outdir)) throw Error(outdir + ": cannot create the output folder" + (ec ? ": " + ec.message() : ""));
  if (::access(outdir.c_str(), W_OK) != 0) throw Error(outdir + ": the output folder is not writable");
}

void count(RunProgress& p, const ManifestEntry& e) {
  ++p.done;
  switch (e.status) {
    case ManifestEntry::Status::ok: ++p.ok; break;
    case ManifestEntry::Status::skipped: ++p.skipped; break;
    case ManifestEntry::Status::error: ++p.failed; break;
    case ManifestEntry::Status::not_taken: break;
  }
  p.media_seconds += e.media_seconds;
}

std::string nothing_taken(const Pipeline& pipe, const InputList& listed) {
  std::string exts;
  for (const auto& e : pipe.extensions()) exts += (exts.empty() ? "." : ", .") + e;
  std::string text = "no input to take: " + pipe.file() + " reads " + exts + " files, and none was given or found";
  if (!listed.not_taken_list.empty()) {
    text += " (" + std::to_string(listed.not_taken_list.size()) + " not taken, e.g. " +
            printable_name(listed.not_taken_list.front().path) + ": " + listed.not_taken_list.front().reason + ")";
  }
  return text + "; no provenance was written";
}

// Each path not taken as a not_taken manifest line, in the shard its path
// falls in (so shards sharing a folder list it once); those meant as inputs
// are reported as errors, output folders left out noted. Returns the former.
size_t record_not_taken(const Plan& plan, const PlanOptions& po, Manifest& manifest,
                        const std::function<void(const std::string&, const std::string&)>& report_error) {
  size_t missed = 0;
  for (const NotTaken& n : plan.not_taken_list) {
    if (!in_shard(n.path, po.shard_index, po.shard_count)) continue;
    ManifestEntry e;
    e.input = n.path;
    e.status = ManifestEntry::Status::not_taken;
    e.reason = n.reason;
    manifest.append(e);
    if (n.missed) {
      ++missed;
      report_error(n.path, "not taken: " + n.reason);
    } else if (n.folder) {
      std::cerr << "note: " << printable_name(n.path) << ": " << n.reason << "\n";
    }
  }
  return missed;
}

// Room for every manifest line this run may append (its shard's inputs and
// everything not taken), reserved before any work.
size_t manifest_room(const InputList& listed, const PlanOptions& po) {
  size_t lines = 0, bytes = 0;
  for (const InputFile& f : listed.files) {
    if (!in_shard(f.rel, po.shard_index, po.shard_count)) continue;
    ++lines;
    bytes += f.path.size() + f.rel.size();
  }
  for (const NotTaken& n : listed.not_taken_list) {
    ++lines;
    bytes += n.path.size() + n.reason.size();
  }
  return Manifest::reservation(lines, bytes);
}

// The run's manifest, with its lines' room reserved, and the provenance in
// place. Nothing in the folder changes when the room cannot be had: for
// --overwrite the manifest is reserved under a temporary name before the
// other pipeline's outputs are cleared; a provenance is written only once
// the room is there.
std::unique_ptr<Manifest> open_manifest(const std::string& provenance, const RunOptions& o, ProvenanceState prov, size_t room) {
  const fs::path dir(o.outdir);
  const std::string path = (dir / manifest_name(o.shard_index, o.shard_count)).string();
  if (prov == ProvenanceState::replace) {
    const std::string tmp = temporary_path(path, 0).string();
    auto m = std::make_unique<Manifest>(tmp, room);
    fs::path staged;
    try {
      staged = stage_provenance(provenance, dir);  // its bytes on disk before anything is cleared
      clear_listed_outputs(dir);
      place_provenance(staged, dir);
      staged.clear();
      m->rename_to(path);
    } catch (...) {
      std::error_code ec;
      fs::remove(tmp, ec);
      if (!staged.empty()) fs::remove(staged, ec);
      throw;
    }
    return m;
  }
  std::error_code ec;
  const bool existed = fs::exists(path, ec);
  auto m = std::make_unique<Manifest>(path, room);
  if (prov == ProvenanceState::absent) {
    try {
      store_provenance(provenance, dir);
    } catch (...) {
      m.reset();
      if (!existed) fs::remove(path, ec);
      throw;
    }
  }
  // An --overwrite killed while clearing another pipeline's outputs: done
  // now, once nothing can refuse this run any more (a refused run changes
  // nothing; the manifest's room is reserved). The replace path above
  // finishes it in clear_listed_outputs, after its own reservation.
  finish_clearing(dir);
  return m;
}

// Inputs of different sample rates gave features of different frame rates
// and frequency ranges under one shape: said once, after the run, with the
// rates seen (each input's is in its manifest line).
void warn_mixed_rates(const Pipeline& pipe, const std::set<double>& rates) {
  if (rates.size() < 2) return;
  std::ostringstream seen;
  for (const double& r : rates) seen << (&r == &*rates.begin() ? "" : ", ") << r;
  const StepInfo& first = pipe.steps().front();
  std::cerr << "warning: the inputs had different sample rates (" << seen.str() << " Hz), which " << first.use
            << " kept, so their features differ in frame rate and frequency range; set " << first.use
            << "'s sample_rate for one rate (each input's rate is in its manifest line)\n";
}

// What `featpipe status` needs to know of this shard before any work: its
// inputs (a killed shard's missing ones are those without a line).
RunRecord start_record(const std::string& provenance, const RunOptions& o, const InputList& listed) {
  RunRecord r;
  r.shard_index = o.shard_index;
  r.shard_count = o.shard_count;
  for (const InputFile& f : listed.files)
    if (in_shard(f.rel, o.shard_index, o.shard_count)) r.planned.push_back(f.path);
  r.provenance = provenance;
  r.command = o.command_line;
  std::error_code ec;
  r.cwd = fs::current_path(ec).string();
  r.host = this_host_name();
  r.pid = ::getpid();
  r.started = utc_now();
  return r;
}

// What provenance.json holds: the pipeline's, and the stored dtype when it
// is not float32 (so a folder written before --dtype existed still agrees,
// and a rerun with another dtype is refused as another pipeline's would be).
std::string provenance_text(const Pipeline& pipe, const RunOptions& o) {
  if (o.dtype == RunOptions::Dtype::float32) return pipe.provenance_json();
  nlohmann::json j = nlohmann::json::parse(pipe.provenance_json());
  j["output"] = {{"dtype", "float16"}};
  return j.dump(2);
}

std::unique_ptr<Sink> make_sink(const Pipeline& pipe, const RunOptions& o) {
  const Dtype dtype = o.dtype == RunOptions::Dtype::float16 ? Dtype::float16 : Dtype::float32;
  const std::string source = "step " + std::to_string(pipe.steps().size()) + " '" + pipe.steps().back().use + "'";
  switch (o.output_format) {
    case RunOptions::OutputFormat::ark: {
      if (dtype != Dtype::float32) throw Error("--dtype float16 is for npy and tar outputs: a Kaldi archive holds float32 matrices");
      const TensorSpec& out = pipe.steps().back().output;
      if (out.rank() > 0 && out.rank() != 2)
        throw Error(pipe.file() + " makes features " + out.axes_text() + ": a Kaldi archive holds matrices ([frame, dim]); use --output-format npy");
      return std::make_unique<ArkSink>(o.outdir, o.shard_index, o.shard_count);
    }
    case RunOptions::OutputFormat::tar: {
      TarSink::Options t;
      t.shard_index = o.shard_index;
      t.shard_count = o.shard_count;
      t.shard_size = o.shard_size;
      t.dtype = dtype;
      t.extensions = pipe.extensions();
      t.source = source;
      t.workers = o.jobs;
      return std::make_unique<TarSink>(o.outdir, std::move(t));
    }
    case RunOptions::OutputFormat::npy: break;
  }
  if (dtype == Dtype::float16) return std::make_unique<NpyFloat16Sink>(o.outdir, source);
  return std::make_unique<NpyFolderSink>(o.outdir);
}

// Inputs stored where a sink never writes again (a completed tar shard) that
// the plan would redo (--resume of a changed input, --overwrite) fail
// instead: a second copy would give a reader the key twice.
void refuse_redos(Plan& plan, const Sink& sink, const ResumeIndex& done) {
  for (Job& job : plan.jobs) {
    if (job.action != Job::Action::run) continue;
    const std::string why = sink.refuses_redo(job.output);
    if (why.empty()) continue;
    job.action = Job::Action::fail;
    job.error = "not redone: " + why;
    job.keeps_output = done.stale(job.output, job.input, sink).empty();  // its ok line stays while true
  }
}

ListForm list_form(RunOptions::InputsForm f) {
  switch (f) {
    case RunOptions::InputsForm::paths: return ListForm::paths;
    case RunOptions::InputsForm::scp: return ListForm::scp;
    case RunOptions::InputsForm::automatic: break;
  }
  return ListForm::automatic;
}

}  // namespace

RunProgress run_batch(const Pipeline& pipe, const RunOptions& o) {
  if (!pipe.has_source()) throw Error(pipe.file() + ": the first step takes a tensor; `run` needs one that reads files");
  if (o.jobs < 1) throw Error("-j must be at least 1");
  std::unique_ptr<Sink> sink_owner = make_sink(pipe, o);
  Sink& sink = *sink_owner;
  PlanOptions po;
  po.shard_index = o.shard_index;
  po.shard_count = o.shard_count;
  po.resume = o.resume;
  po.overwrite = o.overwrite;
  // Listing first: a missing input, colliding outputs or nothing to take
  // stop the run before the folder is made.
  if (!o.inputs_from.empty() && !o.inputs.empty()) throw Error("give inputs or --inputs-from, not both");
  ListOptions lo{o.outdir};
  lo.allow_commands = o.allow_commands;
  InputList listed = o.inputs_from.empty() ? list_inputs(o.inputs, pipe.extensions(), lo)
                                           : read_input_list(o.inputs_from, list_form(o.inputs_form), pipe.extensions(), lo);
  refuse_collisions(listed, sink);
  if (listed.files.empty()) throw Error(nothing_taken(pipe, listed));

  prepare_outdir(o.outdir);
  // What a killed run, or a worker that died while writing, left half-written.
  for (const auto& f : remove_stale_temporaries(o.outdir))
    std::cerr << "note: removed " << printable_name(f) << ", left by a run that died\n";
  const std::string provenance = provenance_text(pipe, o);
  const ProvenanceState prov = check_provenance(provenance, o.outdir, o.overwrite);
  // Clearing another pipeline's features goes by the manifests' outputs,
  // one file each: archives are not cleared that way yet.
  if (prov == ProvenanceState::replace && o.output_format == RunOptions::OutputFormat::ark)
    throw Error(o.outdir + " holds features of another pipeline: --output-format ark does not replace them "
                "(its archives would need clearing with the manifests); use another output folder");
  if (prov == ProvenanceState::replace && o.output_format == RunOptions::OutputFormat::tar)
    throw Error(o.outdir + " holds features of another pipeline: --output-format tar does not replace them "
                "(a completed shard is never rewritten); use another output folder");
  if (prov == ProvenanceState::replace && holds_tar_shards(o.outdir))
    throw Error(o.outdir + " holds tar shards (data*.tar) of another pipeline, which --overwrite does not clear; "
                "use another output folder");
  if (prov == ProvenanceState::replace && holds_kaldi_archives(o.outdir))
    throw Error(o.outdir + " holds Kaldi archives (feats*.ark) of another pipeline, which --overwrite does not "
                "clear yet; use another output folder");
  RunRecorder run_record(o.outdir, start_record(provenance, o, listed));  // staged: a refused run leaves no record
  std::unique_ptr<Manifest> manifest = open_manifest(provenance, o, prov, manifest_room(listed, po));
  run_record.place();
  // Read without --resume too: a refused output keeps its ok line only
  // while that line still holds (plan.cpp).
  // Tar shards are read with --overwrite too: a member it cannot replace
  // keeps its ok line while that line holds (refuse_redos).
  const bool tar = o.output_format == RunOptions::OutputFormat::tar;
  const ResumeIndex done = o.overwrite && !tar ? ResumeIndex{} : ResumeIndex::read(o.outdir);
  Plan plan = plan_jobs(std::move(listed), po, sink, done);
  refuse_redos(plan, sink, done);

  RunProgress prog;
  prog.total = plan.jobs.size();
  prog.not_taken = plan.not_taken;
  std::mutex mu;  // guards prog against the monitor
  const auto t_start = std::chrono::steady_clock::now();
  auto elapsed = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count(); };
  auto report_error = o.on_error ? o.on_error : [](const std::string& in, const std::string& msg) {
    std::cerr << "error: " << printable_name(in) << ": " << printable_name(msg) << "\n";
  };
  prog.missed = record_not_taken(plan, po, *manifest, report_error);
  std::set<double> rates;  // of this run's ok inputs, guarded by mu

  // A command's output is captured under a temporary name in the output
  // folder: removed after each input, and by the sweeps of stale temporaries
  // (below, and at the next run's start) when its worker or the run was killed.
  const CommandOptions commands{o.outdir, o.command_timeout};
  // Long inputs in bounded memory: frames written as they come.
  const bool chunked = why_files_not_streamed(pipe).empty();
  auto make_worker = [&](int w) -> Executor::Worker {
    std::shared_ptr<Session> session = pipe.session();
    return [session, &sink, w, commands, chunked](const Job& job) {
      ManifestEntry e = run_job(job, *session, sink, w, commands, chunked);
      e.payload = sink.take_encoded(w);  // for a sink writing in the run's process (tar)
      return e;
    };
  };
  auto record = [&](ManifestEntry e, bool refused) {
    try {
      manifest->append(e, refused);
    } catch (const std::exception& ex) {
      // Unrecorded is not done: the input fails, and the run with it.
      if (e.status != ManifestEntry::Status::error) e.error = ex.what();
      else e.error += "; " + std::string(ex.what());
      e.status = ManifestEntry::Status::error;
    }
    if (e.status == ManifestEntry::Status::error) report_error(e.input, e.error);
    std::lock_guard<std::mutex> lock(mu);
    count(prog, e);
    if (e.status == ManifestEntry::Status::ok && e.sample_rate > 0) rates.insert(e.sample_rate);
  };
  const Sink::Record record_stored = [&](ManifestEntry e) { record(std::move(e), false); };
  auto on_done = [&](size_t job, ManifestEntry e) {
    if (e.status != ManifestEntry::Status::ok) return record(std::move(e), plan.jobs[job].action == Job::Action::fail && plan.jobs[job].keeps_output);
    try {
      sink.commit(std::move(e), record_stored);
    } catch (const std::exception& ex) {  // a sink's own failure is recorded by it; this is a bug's
      ManifestEntry failed;
      failed.input = plan.jobs[job].input;
      failed.output = plan.jobs[job].output;
      failed.status = ManifestEntry::Status::error;
      failed.error = ex.what();
      record(std::move(failed), false);
    }
  };
  std::function<void()> tick;
  if (o.on_progress) tick = [&] {
    RunProgress snap;
    {
      std::lock_guard<std::mutex> g(mu);
      snap = prog;
    }
    snap.elapsed = elapsed();
    o.on_progress(snap);
  };
  {
    // Before the monitor's thread starts: setenv races with readers.
    const LibraryThreads library_threads(
        static_cast<int>(std::min<size_t>(static_cast<size_t>(o.jobs), std::max<size_t>(plan.jobs.size(), 1))));
    ProgressMonitor monitor(o.progress_interval, std::move(tick));
    std::unique_ptr<Executor> executor;
    if (o.isolation == RunOptions::Isolation::thread) executor = thread_executor(o.jobs);
    else executor = process_executor({o.jobs, o.max_memory, [&monitor] { return monitor.hold(); }});
    executor->run(plan.jobs, make_worker, on_done);
  }
  warn_mixed_rates(pipe, rates);
  if (prog.failed) remove_stale_temporaries(o.outdir);  // a worker that died while writing
  try {
    sink.close(record_stored);
    sink.finish();
  } catch (const std::exception& ex) {
    // What was stored stays where the sink keeps it (an ark's staged
    // matrices): a later run finishes it.
    prog.output_not_finished = true;
    report_error(o.outdir, std::string("the outputs were not finished: ") + ex.what() + "; run again with --resume");
  }
  try {
    manifest->compact();
  } catch (const std::exception& ex) {
    // The appended lines still hold the state, but the promise of one line
    // per input is broken: the run fails, and says how to read the lines.
    prog.manifest_not_compacted = true;
    report_error(manifest_name(o.shard_index, o.shard_count),
                 std::string("not rewritten to one line per input (") + ex.what() +
                     "); its appended lines stand: per output the last line counts, a skipped line confirms the one "
                     "before; a later run rewrites it");
  }

  try {
    run_record.finish(prog.ok, prog.skipped, prog.failed);
  } catch (const std::exception& ex) {
    std::cerr << "warning: " << ex.what() << ": featpipe status will call this shard unfinished\n";
  }

  prog.elapsed = elapsed();
  prog.finished = true;
  if (o.on_progress) o.on_progress(prog);
  return prog;
}

}  // namespace featpipe
