// Kaldi ark + scp: one archive per shard (feats.ark + feats.scp, or
// feats-K-of-N.ark/.scp beside manifest-K-of-N.jsonl), keys sorted.
//
// Workers run in other processes, so they cannot append to one archive:
// each stores its input's matrix under the staging folder .NAME.ark.parts/
// (atomically, as the .npy files). finish() merges the staged matrices with
// the entries of the archive already there (a staged one replaces an old
// one with its key) into a new archive under a temporary name; then the old
// scp is removed, the archive renamed into place, the new scp renamed after
// it, and the staged files removed. Killed at any moment, the archive is
// whole (old or new), an scp present always indexes it, and what was staged
// stays staged: the next run counts it as stored (--resume skips it) and
// merges it.
//
// A manifest `output` is "NAME.ark#KEY"; the key is the wav.scp utterance id
// or the input's relative path (no whitespace: a Kaldi key cannot hold it).
#pragma once

#include "sink.hpp"

#include <filesystem>
#include <map>
#include <mutex>
#include <optional>

namespace featpipe {

class ArkSink final : public Sink {
 public:
  ArkSink(std::filesystem::path outdir, int shard_index, int shard_count);
  std::string output_of(const std::string& rel) const override { return ark_name_ + "#" + rel; }
  bool exists(const std::string& output) const override;
  int64_t bytes_of(const std::string& output) const override;
  // Size, header (for `shape`) and XXH3 of the entry's bytes.
  std::string damaged(const std::string& output, const Stored& stored, const std::vector<int64_t>& shape) const override;
  std::string describe(const std::string& output) const override;
  // Stages the matrix; features that are not [frame, dim] are refused.
  Stored write(const std::string& output, const Tensor& features, int worker) override;
  // Stages the matrix as its rows come, with write()'s bytes: held in
  // memory up to 8 MB, then in the staged file's temporary after its
  // 15-byte header, whose row count is written last, in place.
  std::unique_ptr<ChunkWriter> open_chunked(const std::string& output, int worker) override;
  // Merges and renames (see above), copying each matrix in blocks (a long
  // recording's is never held whole). Throws Error, leaving the old archive.
  void finish() override;

  std::filesystem::path ark_path() const { return outdir_ / ark_name_; }
  std::filesystem::path scp_path() const;
  std::filesystem::path staging() const;

 private:
  struct Entry {
    int64_t offset = 0;  // of the matrix ('\0' 'B') in the archive
    int64_t bytes = 0;   // the matrix's bytes, header included
  };
  std::string key_of(const std::string& output) const;
  std::filesystem::path staged_path(const std::string& key) const;
  const std::map<std::string, Entry>& index() const;  // the archive in place, read once
  // Where the entry's bytes are (staged, else in the archive); nullopt
  // when neither.
  struct Location {
    std::filesystem::path file;
    int64_t offset = 0, bytes = 0;
  };
  std::optional<Location> locate(const std::string& key) const;

  std::filesystem::path outdir_;
  std::string ark_name_;
  mutable std::once_flag indexed_;
  mutable std::map<std::string, Entry> index_;
};

// Whether `outdir` holds an archive, its scp or staged matrices of any shard
// (feats*.ark, feats*.scp, .feats*.ark.parts).
bool holds_kaldi_archives(const std::filesystem::path& outdir);

}  // namespace featpipe
