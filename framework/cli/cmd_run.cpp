// featpipe run PIPELINE (INPUT... | --inputs-from FILE [--inputs-format F] [--allow-commands]) -o OUTDIR [--output-format npy|ark|tar [--shard-size N]] [--dtype float32|float16] [-j N] [--shard K/N|auto] [--resume] [--overwrite]
//   [--isolation process|thread] [--max-memory SIZE]
#include "commands.hpp"
#include "options.hpp"

#include <unistd.h>

#include <cmath>
#include <fstream>
#include <iostream>
#include <iterator>

namespace featpipe::cli {

namespace {
struct RunArgs {
  std::string pipeline;
  std::vector<std::string> inputs;
  std::string inputs_from, inputs_format = "auto", output_format = "npy", dtype = "float32";
  size_t shard_size = 1000;
  std::string outdir;
  int jobs = 1;
  std::string shard;
  int shard_count = 0;
  bool resume = false, overwrite = false, quiet = false, allow_commands = false;
  double command_timeout = 600;
  std::vector<std::string> plugins, allowed_plugin_dirs;
  std::string isolation = "process";
  std::string max_memory;
};

// "4G", "512M", "1.5g", "1073741824"; 0 or "none": no limit.
unsigned long long parse_size(const std::string& text) {
  if (text == "none") return 0;
  size_t used = 0;
  double v = -1;
  try {
    v = std::stod(text, &used);
  } catch (const std::exception&) {
  }
  std::string unit = text.substr(std::min(used, text.size()));
  if (!unit.empty() && (unit.back() == 'B' || unit.back() == 'b')) unit.pop_back();
  if (unit.size() == 2 && (unit[1] == 'i' || unit[1] == 'I')) unit.pop_back();
  const std::string units = "KMGT";
  double scale = 1;
  if (unit.size() == 1 && units.find(char(std::toupper(unsigned(unit[0])))) != std::string::npos)
    scale = std::pow(1024.0, 1 + static_cast<double>(units.find(char(std::toupper(unsigned(unit[0]))))));
  else if (!unit.empty()) v = -1;
  if (!(v >= 0) || !std::isfinite(v * scale)) throw Error("--max-memory " + text + ": expected a size such as 4G, 512M or none");
  return static_cast<unsigned long long>(v * scale);
}
// As typed, for the run record: `featpipe status` prints it back to rerun
// a shard. The arguments never reach the command's action otherwise.
std::vector<std::string> this_command_line() {
  std::ifstream is("/proc/self/cmdline", std::ios::binary);
  const std::string all{std::istreambuf_iterator<char>(is), std::istreambuf_iterator<char>()};
  std::vector<std::string> args;
  for (size_t at = 0; at < all.size();) {
    const size_t end = all.find('\0', at);
    args.push_back(all.substr(at, end == std::string::npos ? std::string::npos : end - at));
    at = end == std::string::npos ? all.size() : end + 1;
  }
  return args;
}
}  // namespace

Action add_run(CLI::App& app) {
  auto a = std::make_shared<RunArgs>();
  CLI::App* c = app.add_subcommand("run", "run a pipeline over files and folders (or a list, a wav.scp), writing .npy features or a Kaldi ark + scp");
  c->add_option("pipeline", a->pipeline, "pipeline file (.yaml)")->required();
  c->add_option("inputs", a->inputs, "input files and folders (walked recursively)");
  c->add_option("--inputs-from", a->inputs_from,
                "read the inputs from FILE (- for stdin) instead: one path per line, or a Kaldi wav.scp "
                "(UTT-ID PATH per line; the ids name the outputs)");
  c->add_option("--inputs-format", a->inputs_format,
                "the form of --inputs-from: auto (default: scp when FILE ends in .scp, else paths), paths, scp")
      ->check(CLI::IsMember({"auto", "paths", "scp"}));
  c->add_flag("--allow-commands", a->allow_commands,
              "run a wav.scp's piped commands (UTT-ID CMD |) through /bin/sh and decode their stdout: only for a "
              "trusted list (without it such lines are refused)");
  c->add_option("--command-timeout", a->command_timeout,
                "seconds a wav.scp command may run before it is killed and its input fails; 0: no limit")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  c->add_option("--output-format", a->output_format,
                "npy (default): OUTDIR/<input>.npy each; ark: Kaldi feats.ark + feats.scp (one pair per shard); tar: "
                "WebDataset shards data-000000.tar, ... of <key>.npy members, listed in data.json")
      ->check(CLI::IsMember({"npy", "ark", "tar"}));
  CLI::Option* shard_size = c->add_option("--shard-size", a->shard_size, "inputs per tar shard (--output-format tar)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  c->add_option("--dtype", a->dtype,
                "float32 (default), or float16 for npy and tar: rounded to nearest even; an input with a value beyond "
                "float16's range fails")
      ->check(CLI::IsMember({"float32", "float16"}))
      ->capture_default_str();
  c->add_option("-o,--output", a->outdir, "output folder")->required();
  c->add_option("-j,--jobs", a->jobs, "workers")->check(whole_number(1))->capture_default_str();
  c->add_option("--isolation", a->isolation,
                "process (default): each worker a child process, so an input that crashes a stage or exhausts memory "
                "fails alone; thread: workers as threads of this process (a crash ends the run)")
      ->check(CLI::IsMember({"process", "thread"}))
      ->capture_default_str();
  c->add_option("--max-memory", a->max_memory,
                "memory ceiling per worker process, e.g. 4G, 512M, none (default: physical memory / workers, the "
                "cgroup memory limit counting when lower; at least 1G; none in sanitizer builds)");
  c->add_option("--shard", a->shard, "K/N: this process takes shard K of N; auto: from Slurm/Kubernetes");
  c->add_option("--shard-count", a->shard_count, "N for --shard auto in a Kubernetes indexed job")->check(whole_number(1));
  c->add_flag("--resume", a->resume, "skip inputs whose output exists and whose manifest line says ok");
  c->add_flag("--overwrite", a->overwrite, "replace existing outputs");
  c->add_flag("-q,--quiet", a->quiet, "no progress display");
  c->add_option("--plugin", a->plugins, "extra plugin file (repeatable)");
  c->add_option("--allow-plugin", a->allowed_plugin_dirs, "folder a pipeline's plugins: may load from (repeatable; loading runs their code)");
  return [a, shard_size] {
    if (a->resume && a->overwrite) throw Error("--resume and --overwrite exclude each other");
    if (a->inputs.empty() == a->inputs_from.empty())
      throw Error(a->inputs.empty() ? "no inputs: give input files or folders, or --inputs-from FILE"
                                    : "give input files or folders, or --inputs-from FILE, not both");
    if (a->inputs_format != "auto" && a->inputs_from.empty()) throw Error("--inputs-format goes with --inputs-from");
    LoadOptions lo;
    lo.plugin_files = a->plugins;
    lo.allowed_plugin_dirs = a->allowed_plugin_dirs;
    auto pipe = Pipeline::load(a->pipeline, lo);
    RunOptions o;
    o.inputs = a->inputs;
    o.inputs_from = a->inputs_from;
    o.inputs_form = a->inputs_format == "scp"     ? RunOptions::InputsForm::scp
                    : a->inputs_format == "paths" ? RunOptions::InputsForm::paths
                                                  : RunOptions::InputsForm::automatic;
    o.allow_commands = a->allow_commands;
    o.command_timeout = a->command_timeout;
    o.output_format = a->output_format == "ark"   ? RunOptions::OutputFormat::ark
                      : a->output_format == "tar" ? RunOptions::OutputFormat::tar
                                                  : RunOptions::OutputFormat::npy;
    if (shard_size->count() && o.output_format != RunOptions::OutputFormat::tar) throw Error("--shard-size goes with --output-format tar");
    o.shard_size = a->shard_size;
    o.dtype = a->dtype == "float16" ? RunOptions::Dtype::float16 : RunOptions::Dtype::float32;
    o.outdir = a->outdir;
    o.jobs = a->jobs;
    if (!a->shard.empty()) parse_shard(a->shard, a->shard_count, o.shard_index, o.shard_count);
    else if (a->shard_count) throw Error("--shard-count goes with --shard auto");
    o.resume = a->resume;
    o.overwrite = a->overwrite;
    o.command_line = this_command_line();
    o.isolation = a->isolation == "thread" ? RunOptions::Isolation::thread : RunOptions::Isolation::process;
    o.max_memory = a->max_memory.empty() ? default_max_memory(o.jobs) : parse_size(a->max_memory);
    if (!a->max_memory.empty() && o.max_memory && !memory_limit_supported())
      std::cerr << "warning: --max-memory is ignored: this is a sanitizer build, whose shadow memory needs an unlimited address space\n";
    else if (!a->max_memory.empty() && o.isolation == RunOptions::Isolation::thread)
      std::cerr << "warning: --max-memory applies to worker processes, not to --isolation thread\n";
    if (!memory_limit_supported()) o.max_memory = 0;
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
    return p.failed || p.missed || p.manifest_not_compacted || p.output_not_finished ? 1 : 0;  // a missed input is one not processed
  };
}

}  // namespace featpipe::cli
