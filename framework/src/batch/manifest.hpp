// manifest.jsonl: one line per input, each appended with one write.
#pragma once

#include "manifest_entry.hpp"

#include <mutex>
#include <string>

namespace featpipe {

class Manifest {
 public:
  // Opens (creates) `path` for appending; throws Error when not writable.
  explicit Manifest(const std::string& path);
  ~Manifest();
  Manifest(const Manifest&) = delete;
  Manifest& operator=(const Manifest&) = delete;
  // One whole line, one write(2): concurrent writers (other shards sharing
  // the folder never share the file, but threads may) never interleave.
  void append(const ManifestEntry& entry);

 private:
  int fd_ = -1;
  std::string path_;
  std::mutex mu_;
};

// The manifest's file name: one per shard, so shards may share a folder.
std::string manifest_name(int shard_index, int shard_count);

}  // namespace featpipe
