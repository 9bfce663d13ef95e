// Where a batch run's features go: one whole tensor per input.
//
// A sink names each input's output, says whether a previous run left it, and
// stores it. One file per input (the .npy folder) is one kind; sinks that put
// several inputs in one file (Kaldi ark + scp, WebDataset tar) serialize
// their writes inside write() and write their index in finish().
#pragma once

#include <featpipe/featpipe.hpp>

#include "manifest_entry.hpp"

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace featpipe {

// What a sink stored for one input, as the manifest records it.
struct Stored {
  int64_t bytes = -1;  // -1: the sink cannot tell
  std::string xxh3;    // XXH3-64 of the stored bytes (16 hex digits); "": none
};

// One output written as its frames come (a long input streamed through the
// pipeline): appended along the output's stream axis, which has only axes
// of size 1 before it, so the frames are contiguous in C order. Destroyed
// without commit(), it leaves nothing under any name.
class ChunkWriter {
 public:
  virtual ~ChunkWriter() = default;
  virtual void append(const FramesView& frames) = 0;
  // Stores what was appended as an array of `shape` (the result's). Throws
  // Error, leaving nothing.
  virtual Stored commit(const std::vector<int64_t>& shape) = 0;
};

class Sink {
 public:
  virtual ~Sink() = default;
  // The manifest's `output` for an input kept as `rel` ("sub/x.wav"):
  // relative to the output folder, unique per input.
  virtual std::string output_of(const std::string& rel) const = 0;
  // Whether `output` is already stored (by an earlier run).
  virtual bool exists(const std::string& output) const = 0;
  // The stored output's size in bytes, -1 when the sink cannot tell (then
  // --resume cannot verify it and redoes the input).
  virtual int64_t bytes_of(const std::string& /*output*/) const { return -1; }
  // For --resume: why `output` is no longer what a run recorded storing
  // (`stored`, holding `shape`), or "" when it still is.
  virtual std::string damaged(const std::string& output, const Stored& /*stored*/,
                              const std::vector<int64_t>& /*shape*/) const {
    return exists(output) ? "" : "missing";
  }
  // `output` as the user should read it in a message (a full path).
  virtual std::string describe(const std::string& output) const = 0;
  // Stores one input's features. Called by several workers at once; `worker`
  // tells them apart. Throws Error; never leaves a partial output behind.
  virtual Stored write(const std::string& output, const Tensor& features, int worker) = 0;
  // A writer storing `output` chunk by chunk, or nullptr when this sink
  // takes whole tensors only (write()). Same storage and bytes as write().
  virtual std::unique_ptr<ChunkWriter> open_chunked(const std::string& /*output*/, int /*worker*/) { return nullptr; }
  // After the last write (an index, a tar's end). Not called when the run
  // ends by an exception.
  virtual void finish() {}

  // Sinks whose files have one writer, the run's own process (tar shards):
  // write() in a worker only encodes, take_encoded() then hands the bytes
  // over (in the worker, after run_job: they travel back with the entry).
  virtual std::string take_encoded(int /*worker*/) { return {}; }
  // Why an input stored in `output` cannot be written again ("": it can).
  virtual std::string refuses_redo(const std::string& /*output*/) const { return {}; }
  // Each ok entry, in the run's process, one at a time: stores what the
  // worker encoded, then passes the entry to `record` (the manifest) - at
  // once by default; a tar sink holds entries until their shard is complete.
  using Record = std::function<void(ManifestEntry)>;
  virtual void commit(ManifestEntry e, const Record& record) { record(std::move(e)); }
  // After the last commit: what is held is stored and recorded.
  virtual void close(const Record& /*record*/) {}
};

}  // namespace featpipe
