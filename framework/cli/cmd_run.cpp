// featpipe run PIPELINE INPUT... -o OUTDIR [-j N] [--shard K/N|auto] [--resume] [--overwrite]
#include "commands.hpp"

#include <unistd.h>

#include <iostream>
#include <thread>

namespace featpipe::cli {

namespace {
struct RunArgs {
  std::string pipeline;
  std::vector<std::string> inputs;
  std::string outdir;
  int jobs = 1;
  std::string shard;
  int shard_count = 0;
  bool resume = false, overwrite = false, quiet = false;
  std::vector<std::string> plugins, allowed_plugin_dirs;
};
}  // namespace

Action add_run(CLI::App& app) {
  auto a = std::make_shared<RunArgs>();
  CLI::App* c = app.add_subcommand("run", "run a pipeline over files and folders, writing .npy features");
  c->add_option("pipeline", a->pipeline, "pipeline file (.yaml)")->required();
  c->add_option("inputs", a->inputs, "input files and folders (walked recursively)")->required();
  c->add_option("-o,--output", a->outdir, "output folder")->required();
  c->add_option("-j,--jobs", a->jobs, "worker threads (0: one per core)")->check(CLI::NonNegativeNumber);
  c->add_option("--shard", a->shard, "K/N: this process takes shard K of N; auto: from Slurm/Kubernetes");
  c->add_option("--shard-count", a->shard_count, "N for --shard auto in a Kubernetes indexed job");
  c->add_flag("--resume", a->resume, "skip inputs whose output exists and whose manifest line says ok");
  c->add_flag("--overwrite", a->overwrite, "replace existing outputs");
  c->add_flag("-q,--quiet", a->quiet, "no progress display");
  c->add_option("--plugin", a->plugins, "extra plugin file (repeatable)");
  c->add_option("--allow-plugin", a->allowed_plugin_dirs, "folder a pipeline's plugins: may load from (repeatable; loading runs their code)");
  return [a] {
    if (a->resume && a->overwrite) throw Error("--resume and --overwrite exclude each other");
    LoadOptions lo;
    lo.plugin_files = a->plugins;
    lo.allowed_plugin_dirs = a->allowed_plugin_dirs;
    auto pipe = Pipeline::load(a->pipeline, lo);
    RunOptions o;
    o.inputs = a->inputs;
    o.outdir = a->outdir;
    o.jobs = a->jobs == 0 ? std::max(1u, std::thread::hardware_concurrency()) : a->jobs;
    if (!a->shard.empty()) parse_shard(a->shard, a->shard_count, o.shard_index, o.shard_count);
    else if (a->shard_count) throw Error("--shard-count goes with --shard auto");
    o.resume = a->resume;
    o.overwrite = a->overwrite;
    const bool tty = isatty(STDERR_FILENO);
    if (!a->quiet) {
      o.on_progress = progress_printer(tty);
      o.progress_interval = tty ? 0.2 : 5.0;
    }
    if (tty && !a->quiet)  // keep error lines off the progress bar's line
      o.on_error = [](const std::string& in, const std::string& msg) {
        std::cerr << "\r\033[K" << "error: " << printable_name(in) << ": " << printable_name(msg) << "\n";
      };
    RunProgress p = run_batch(*pipe, o);
    if (a->quiet) std::cerr << summary_line(p) << "\n";
    return p.failed || p.missed ? 1 : 0;  // a missed input is one not processed
  };
}

}  // namespace featpipe::cli
