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

class ResumeIndex {
 public:
  // Reads manifest*.jsonl in `outdir` (none, or no folder: empty). Torn or
  // unparsable lines are ignored.
  static ResumeIndex read(const std::string& outdir);
  // Any ok (or skipped-as-done) line counts: outputs are replaced
  // atomically, so a later failure leaves an earlier good output intact.
  void add(const ManifestEntry& e);
  bool done(const std::string& output) const { return entries_.count(output) != 0; }
  // The line that made it done (an ok line when there is one), or null.
  const ManifestEntry* find(const std::string& output) const;
  size_t size() const { return entries_.size(); }

 private:
  std::unordered_map<std::string, ManifestEntry> entries_;
};

}  // namespace featpipe
