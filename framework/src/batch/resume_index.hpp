// What earlier runs finished, from every manifest*.jsonl of an output folder
// (any shard's), for --resume.
//
// Keyed by the manifest's `output` (relative to the folder), not by the
// input path: the input is recorded as spelled on the command line (./in/x,
// in/x) and on another shard's machine, while the output names the same
// input however it was reached.
#pragma once

#include "manifest_entry.hpp"

#include <string>
#include <unordered_map>

namespace featpipe {

// What tells an input apart from its replacement, cheaply: size and
// modification time (as make and rsync do; hashing every input costs more
// than a log-mel run, see README). -1s when it cannot be stat'ed.
struct InputIdentity {
  int64_t bytes = -1, mtime_ns = -1;
  bool operator==(const InputIdentity&) const = default;
};
InputIdentity input_identity(const std::string& path);

class Sink;

class ResumeIndex {
 public:
  // Reads manifest*.jsonl in `outdir` (none, or no folder: empty). Torn or
  // unparsable lines are ignored.
  static ResumeIndex read(const std::string& outdir);
  // The latest ok (else skipped) line counts: outputs are replaced
  // atomically, so a later failure leaves an earlier good output intact.
  void add(const ManifestEntry& e);
  bool done(const std::string& output) const { return entries_.count(output) != 0; }
  // Why the done `output` of `input` must be redone ("" when it need not):
  // the input is not the one read (size, mtime) or the output is not the one
  // written (the sink's check); a line without identity is not trusted.
  std::string stale(const std::string& output, const std::string& input, const Sink& sink) const;
  // The line that made it done (an ok line when there is one), or null.
  const ManifestEntry* find(const std::string& output) const;
  size_t size() const { return entries_.size(); }

 private:
  std::unordered_map<std::string, ManifestEntry> entries_;
};

}  // namespace featpipe
