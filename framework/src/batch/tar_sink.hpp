// WebDataset-style tar shards: DATA-000000.tar, DATA-000001.tar, ... of
// --shard-size members each, DATA being "data" or, for --shard K/N,
// "data-K-of-N" (cluster shards share a folder without sharing a file).
// Each input is the member "<key>.npy" - the bytes a .npy run writes for it
// - where the key is its relative path without the extension the pipeline
// read, dots of the file name as '_' (webdataset takes a member's key up to
// the first dot of its file name).
//
// One writer per shard: workers (threads or child processes) only encode
// an input's .npy bytes (write() keeps them for take_encoded()); the run's
// own process appends them in commit(), one at a time. A shard is written
// under a temporary name and renamed when it holds its members, and only
// then are their ok lines recorded: a killed run leaves no line for an input
// of the shard it was writing (the temporary is swept by the next run), so
// --resume redoes exactly those. A completed shard is never rewritten.
//
// DATA.json lists the family's completed shards as a wids shard index
// ("wids-shard-index-v1": url, nsamples, filesize), rewritten after each.
//
// A manifest `output` is "DATA-000003.tar#sub/x.npy". Before its input is
// stored it reads "DATA-*.tar#sub/x.npy" (an error line's output).
#pragma once

#include "npy_encode.hpp"
#include "sink.hpp"

#include <filesystem>
#include <map>
#include <mutex>
#include <vector>

namespace featpipe {

class TarSink final : public Sink {
 public:
  struct Options {
    int shard_index = 0, shard_count = 1;  // the cluster shard (--shard K/N)
    size_t shard_size = 1000;              // members per tar file
    Dtype dtype = Dtype::float32;
    std::vector<std::string> extensions;  // the pipeline reads (stripped from keys)
    std::string source;                   // the step making the features, for messages
    int workers = 1;
  };
  TarSink(std::filesystem::path outdir, Options o);
  ~TarSink() override;

  std::string output_of(const std::string& rel) const override;
  bool exists(const std::string& output) const override;
  int64_t bytes_of(const std::string& output) const override;
  // Size, header and XXH3 of the member's bytes.
  std::string damaged(const std::string& output, const Stored& stored, const std::vector<int64_t>& shape) const override;
  std::string describe(const std::string& output) const override;
  std::string refuses_redo(const std::string& output) const override;
  // Encodes only; the bytes wait for take_encoded(worker).
  Stored write(const std::string& output, const Tensor& features, int worker) override;
  std::string take_encoded(int worker) override;
  void commit(ManifestEntry e, const Record& record) override;
  void close(const Record& record) override;
  // Rewrites the shard index; throws when a shard could not be written.
  void finish() override;

  // "sub/x.wav" -> "sub/x.npy" (see above).
  std::string member_of(const std::string& rel) const;

 private:
  struct Where {
    std::string shard;
    uint64_t offset = 0, size = 0;
  };
  const std::map<std::string, Where>& index() const;  // member -> where, over completed shards (read once)
  const Where* find(const std::string& output) const;
  std::string shard_name(size_t number) const;
  void open_shard();
  void close_shard(const Record& record);
  void fail_held(const std::string& why, const Record& record);
  void write_index();
  void flush_buffer();  // throws Error

  std::filesystem::path outdir_;
  Options o_;
  std::string family_;
  std::vector<std::string> encoded_;  // per worker
  mutable std::once_flag indexed_;
  mutable std::map<std::string, Where> index_;
  mutable std::map<std::string, std::pair<size_t, uint64_t>> own_;  // this family's shards: name -> members, bytes
  mutable size_t next_number_ = 0;

  // The shard being written (the run's process only).
  int fd_ = -1;
  std::string buffer_;  // written in pieces of about 1 MiB, not per member
  std::filesystem::path tmp_, final_;
  uint64_t written_ = 0;
  std::vector<ManifestEntry> held_;  // stored in the open shard, recorded when it is complete
  std::string failed_;               // why a shard could not be written: later inputs fail too
};

// Whether `outdir` holds tar shards of any family (data*.tar).
bool holds_tar_shards(const std::filesystem::path& outdir);

}  // namespace featpipe
