// manifest.jsonl: one line per input, each appended with one write during a
// run; compacted to the current state (one line per input) when it ends.
#pragma once

#include "manifest_entry.hpp"

#include <filesystem>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

namespace featpipe {

class Manifest {
 public:
  // Opens (creates) `path` for appending; throws Error when not writable.
  // `reserve` bytes are allocated past its end (fallocate, size kept), so
  // the run's lines cannot meet a full disk: a run that cannot reserve them
  // fails before any work (Error, and a file it created is removed). File
  // systems that cannot reserve (some NFS) are written without.
  explicit Manifest(const std::string& path, size_t reserve = 0);
  ~Manifest();
  Manifest(const Manifest&) = delete;
  Manifest& operator=(const Manifest&) = delete;
  // One whole line, one write(2): concurrent writers (other shards sharing
  // the folder never share the file, but threads may) never interleave.
  // Throws Error naming errno's reason as the write failed (a full disk: "No
  // space left on device"); a line cut short is then followed by a newline.
  // `refused`: the run refused the input without touching its output (an
  // existing output, a name collision); compaction then keeps the ok line
  // before it, which still describes the output.
  void append(const ManifestEntry& entry, bool refused = false);
  // Rewrites the file (temporary + rename) with one line per input, in the
  // order of their latest lines: the latest, except that a skip or a refusal
  // keeps the ok line before it while no other input has written that
  // output since. Torn lines are dropped. Not for a file that is not a regular one. Throws Error,
  // leaving the file as it was.
  void compact();
  // Renames the file (same folder): a manifest reserved under a temporary
  // name before an --overwrite clears the folder takes its place after.
  void rename_to(const std::string& path);
  const std::string& path() const { return path_; }

  // Bytes to reserve for a run's lines: generous per line (a line holds the
  // two paths, base64 of non-UTF-8 names, an error message).
  static size_t reservation(size_t lines, size_t path_bytes);

 private:
  void release();  // gives back what is reserved past the end
  int fd_ = -1;
  std::string path_;
  bool torn_ = false;
  std::unordered_set<std::string> refused_;  // lines of inputs this run refused  // the last line in the file is cut short
  std::mutex mu_;
};

// The manifest's file name: one per shard, so shards may share a folder.
std::string manifest_name(int shard_index, int shard_count);

// Every shard's manifest in `outdir` (manifest*.jsonl), regular files only:
// a device or FIFO so named (/dev/full) would be read forever. None when
// the folder does not exist.
std::vector<std::filesystem::path> manifest_files(const std::filesystem::path& outdir);
// The regular files of `outdir` (not below) named PREFIX*EXTENSION, in
// directory order; none when it cannot be read.
std::vector<std::filesystem::path> files_named(const std::filesystem::path& outdir, std::string_view prefix,
                                               std::string_view extension);

}  // namespace featpipe
