// The .npy folder: OUTDIR/<rel>.npy per input, relative paths kept.
#pragma once

#include "sink.hpp"

#include <filesystem>

namespace featpipe {

class NpyFolderSink final : public Sink {
 public:
  explicit NpyFolderSink(std::filesystem::path outdir) : outdir_(std::move(outdir)) {}
  std::string output_of(const std::string& rel) const override { return rel + ".npy"; }
  bool exists(const std::string& output) const override;
  int64_t bytes_of(const std::string& output) const override;
  // Checks the size and the header (the writer's header for `shape`, byte
  // for byte): a truncated, emptied or replaced file is caught without
  // reading the data (a checksum of it costs about as much as the run).
  std::string damaged(const std::string& output, const Stored& stored, const std::vector<int64_t>& shape) const override;
  std::string describe(const std::string& output) const override { return (outdir_ / output).string(); }
  // Atomic: a killed run leaves no truncated file under the final name.
  Stored write(const std::string& output, const Tensor& features, int worker) override;
  // Frames held in memory up to kChunkedBuffer bytes (a short input is
  // written as write() does), then spilled to the temporary file; the
  // header is written last, the file renamed into place when complete.
  std::unique_ptr<ChunkWriter> open_chunked(const std::string& output, int worker) override;
  static constexpr size_t kChunkedBuffer = size_t{8} << 20;

 private:
  std::filesystem::path outdir_;
};

}  // namespace featpipe
