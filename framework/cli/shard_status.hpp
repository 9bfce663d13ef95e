// What an output folder says about each shard of a run, for `featpipe
// status`: its manifest (what finished, how), its run record (what it
// planned, where and when it ran, with which pipeline), and the folder's
// provenance.json.
#pragma once

#include "batch/run_record.hpp"

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace featpipe::cli {

struct ErrorGroup {
  std::string reason;  // the message, with the input's and output's names taken out
  size_t count = 0;
  std::vector<std::string> examples;  // inputs, the first few
};

struct ShardStatus {
  enum class State {
    complete,     // ended, every planned input ok (or skipped as done)
    failed,       // ended, some inputs failed
    incomplete,   // ended, yet some planned inputs have no manifest line
    running,      // not ended, and its process still runs (this host)
    killed,       // not ended, and its process is gone (this host)
    unfinished,   // not ended, run on another host: running there, or killed
    not_started,  // neither record nor manifest
    no_record,    // a manifest but no record (an older featpipe): what it planned is unknown
    other_pipeline,  // ran a pipeline or plugins other than the folder's (shards merged from two copies)
  };
  int index = 0;
  State state = State::not_started;
  std::optional<RunRecord> record;
  std::string record_error;  // a record that cannot be read
  bool has_manifest = false;
  size_t done = 0, failed = 0, not_taken = 0;
  std::optional<size_t> planned, missing;  // unknown without a record
  size_t unplanned = 0;  // lines of inputs the last run did not plan (an earlier run's), not counted
  size_t torn = 0;       // lines that are not entries (a kill mid-line)
  std::vector<std::string> missing_examples;
  std::vector<ErrorGroup> errors;  // the largest groups first
  // Against the reference provenance (provenance.json, else the first
  // record's): "" when the same in meaning.
  std::string provenance_difference;

  bool ok() const { return state == State::complete && provenance_difference.empty(); }
};

struct FolderStatus {
  std::filesystem::path outdir;
  int shard_count = 1;
  std::vector<ShardStatus> shards;  // one per shard, 0..N-1
  std::string provenance_reference;  // "provenance.json", "shard K's record", or "" when no provenance at all
  std::vector<int> other_counts;     // shard counts of other runs found in the folder (ignored)
  bool complete() const;
};

// `shard_count` 0: learnt from the manifests and records present. Throws
// Error when the folder cannot be read, holds no run and no count is given,
// or holds runs of several shard counts and none is given.
FolderStatus folder_status(const std::filesystem::path& outdir, int shard_count);

const char* to_string(ShardStatus::State s);

// The command that redoes shard `s`: the recorded command of the shard, or
// of another shard when it has none or ran another pipeline, with
// --shard K/N and --resume (--overwrite when its provenance differs) and -o
// the folder status read (a merged copy's shards wrote elsewhere); [] when
// no shard recorded one.
std::vector<std::string> rerun_command(const FolderStatus& f, const ShardStatus& s);

}  // namespace featpipe::cli
