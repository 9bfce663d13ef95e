// Batch runs: a pipeline over files and folders, writing .npy features, a
// manifest and provenance into an output folder (what `featpipe run` does).
#pragma once

#include <featpipe/export.h>
#include <featpipe/featpipe.hpp>

#include <functional>
#include <string>
#include <vector>

namespace featpipe {

struct RunOptions {
  std::vector<std::string> inputs;  // files and folders (walked recursively)
  // Instead of `inputs`: a file listing them ("-": stdin), one path per
  // line or a Kaldi wav.scp (`UTT-ID PATH`; the ids name the outputs).
  std::string inputs_from;
  enum class InputsForm { automatic, paths, scp } inputs_form = InputsForm::automatic;  // automatic: scp if *.scp
  // A wav.scp's piped commands (`UTT-ID CMD |`) are run through /bin/sh,
  // their stdout decoded (else such a list is refused): trusted lists only.
  bool allow_commands = false;
  double command_timeout = 600;  // seconds a command may run; 0: no limit
  // npy: OUTDIR/<rel>.npy per input. ark: Kaldi feats.ark + feats.scp per
  // shard (binary float matrices; features must be [frame, dim]). tar:
  // WebDataset-style shards of `shard_size` <key>.npy members each.
  enum class OutputFormat { npy, ark, tar } output_format = OutputFormat::npy;
  size_t shard_size = 1000;  // tar members per file
  // float16: values rounded to nearest even (as numpy's astype); an input
  // with a value beyond float16's range fails. npy and tar only.
  enum class Dtype { float32, float16 } dtype = Dtype::float32;
  std::string outdir;
  int jobs = 1;                     // workers
  // process: each worker a child process, so a crash or an exhausted memory
  // fails the input it was on, not the run; thread: all in this process.
  enum class Isolation { process, thread } isolation = Isolation::process;
  // Per worker process (RLIMIT_AS), bytes; 0: none. Ignored with threads
  // and in sanitizer builds.
  unsigned long long max_memory = 0;
  int shard_index = 0, shard_count = 1;
  bool resume = false;              // skip inputs done (output + ok manifest line)
  bool overwrite = false;           // replace existing outputs
  // The command line as typed, kept in the run record (run-K-of-N.json) so
  // that `featpipe status` can say how to rerun a shard.
  std::vector<std::string> command_line;
  // Progress, called from a monitor thread every `progress_interval` s.
  std::function<void(const struct RunProgress&)> on_progress;
  double progress_interval = 0.2;
  // Each failure as it happens: (input, message). Default: stderr.
  std::function<void(const std::string&, const std::string&)> on_error;
};

struct RunProgress {
  size_t total = 0;          // inputs in this shard
  size_t done = 0;           // ok + failed + skipped so far
  size_t ok = 0, failed = 0, skipped = 0;
  size_t not_taken = 0;      // files in folders the first step does not read
  // Inputs given or found that cannot be read (unreadable folders, dangling
  // or looping links, special files with a read extension): listed in the
  // manifest as not_taken; the CLI exits 1, as for failures.
  size_t missed = 0;
  // The manifest could not be rewritten to one line per input at the end (a
  // full disk): its appended lines still hold the state, the CLI exits 1.
  bool manifest_not_compacted = false;
  // The sink could not complete its outputs (an ark's merge failed): the CLI exits 1.
  bool output_not_finished = false;
  double elapsed = 0;        // seconds
  double media_seconds = 0;  // of audio processed
  bool finished = false;
};

// Runs the whole job. Throws Error for problems before any input is touched
// (missing input path, unwritable output folder, different provenance,
// nothing to take, two inputs with one output):
// the CLI's exit status 2. Per-input failures are counted, not thrown.
FEATPIPE_API RunProgress run_batch(const Pipeline& pipeline, const RunOptions& opts);

// "" when `run` reads this pipeline's files in chunks and writes their
// features as they come (every output format but tar shards), so memory
// does not grow with a file's length; else
// why not: a step needs the whole input, the source decodes files whole, or
// the output's stream axis is not its first (frames not contiguous).
FEATPIPE_API std::string why_files_not_streamed(const Pipeline& pipe);

// RunOptions::max_memory's default: physical memory, or the cgroup's limit
// when lower (a container, a Kubernetes pod, a Slurm job), shared by
// `workers`, at least 1 GiB.
FEATPIPE_API unsigned long long default_max_memory(int workers);
// False in sanitizer builds: their shadow memory reserves terabytes of
// address space, so any RLIMIT_AS would stop a worker from starting.
FEATPIPE_API bool memory_limit_supported();

// --shard parsing: "K/N", or "auto" (Slurm array / Kubernetes indexed job;
// `count` from --shard-count for Kubernetes). Throws Error when unusable.
FEATPIPE_API void parse_shard(const std::string& text, int count_option, int& index, int& count);

// A file name for a terminal: control characters as \n, \t, \xHH, bytes
// that are not UTF-8 as \xHH (a name cannot forge a line on stderr).
FEATPIPE_API std::string printable_name(const std::string& name);

}  // namespace featpipe
