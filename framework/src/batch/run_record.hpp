// run.json / run-K-of-N.json: what one shard of a run planned and how far it
// got, beside its manifest, for `featpipe status`. A manifest lists only
// what finished, so a killed shard's missing inputs, and a shard that never
// started, are known only from this record.
//
// Written whole under a temporary name before the manifest is opened, put in
// place by a rename once nothing can refuse the run any more (a refused run
// leaves the folder as it was), and rewritten with `ended` when the run ends.
// A file of its own, not a manifest line: every manifest reader (numpy
// loops, --resume, cmvn-stats) keeps reading entries only.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace featpipe {

struct RunRecord {
  int shard_index = 0, shard_count = 1;
  std::vector<std::string> planned;  // the shard's inputs, as its manifest lines name them
  std::string provenance;            // the pipeline's provenance.json text, as this shard ran it
  std::vector<std::string> command;  // the command line, when the caller gave it ([] otherwise)
  std::string cwd;                   // where it ran (the command's relative paths)
  std::string host;
  int64_t pid = 0;
  std::string started, ended;  // UTC, ISO 8601; ended "" while running, or after a kill
  // Set when ended: the run's counts, as its summary gave them.
  int64_t ok = 0, skipped = 0, failed = 0;
};

// "run.json" for an unsharded run, else "run-K-of-N.json" (as manifest_name).
std::string run_record_name(int shard_index, int shard_count);

// Every run*.json record in `outdir`, regular files only.
std::vector<std::filesystem::path> run_record_files(const std::filesystem::path& outdir);

// Throws Error naming the file and why it cannot be read as a record.
RunRecord read_run_record(const std::filesystem::path& file);
std::string run_record_json(const RunRecord& r);

// The current time, UTC, ISO 8601 ("2026-12-01T15:51:55Z").
std::string utc_now();
std::string this_host_name();

// The record of the run in progress. The constructor writes it under a
// temporary name (throws Error, leaving nothing, when it cannot); place()
// renames it into place; finish() rewrites it as ended. A record never
// placed is removed by the destructor.
class RunRecorder {
 public:
  RunRecorder(const std::filesystem::path& outdir, RunRecord record);
  ~RunRecorder();
  RunRecorder(const RunRecorder&) = delete;
  RunRecorder& operator=(const RunRecorder&) = delete;
  void place();
  // Throws Error when the record cannot be rewritten (the run's outputs
  // stand; status then reports the shard unfinished).
  void finish(int64_t ok, int64_t skipped, int64_t failed);

 private:
  std::filesystem::path path_, staged_;
  RunRecord record_;
};

}  // namespace featpipe
