// manifest.jsonl: one JSON object per input, each appended with one write.
#pragma once

#include <nlohmann/json.hpp>

#include <map>
#include <mutex>
#include <string>

namespace featpipe {

class Manifest {
 public:
  // Opens (creates) `path` for appending; throws Error when not writable.
  explicit Manifest(const std::string& path);
  ~Manifest();
  Manifest(const Manifest&) = delete;
  // One whole line, one write(2): concurrent writers never interleave.
  void append(const nlohmann::json& entry);

 private:
  int fd_ = -1;
  std::string path_;
  std::mutex mu_;
};

// Outputs (relative to OUTDIR) that some line of a manifest*.jsonl in
// `outdir` says are ok (or skipped as done). Torn or unparsable lines are ignored.
std::map<std::string, bool> read_done(const std::string& outdir);

}  // namespace featpipe
