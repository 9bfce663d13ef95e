// The .npy folder in float16 (--dtype float16): the same names and checks
// as NpyFolderSink, the data stored as '<f2' (npy_encode.hpp).
#pragma once

#include "npy_folder_sink.hpp"

#include <string>

namespace featpipe {

class NpyFloat16Sink final : public Sink {
 public:
  // `source`: the step making the features, for a value beyond float16's range.
  NpyFloat16Sink(std::filesystem::path outdir, std::string source)
      : outdir_(outdir), folder_(std::move(outdir)), source_(std::move(source)) {}
  std::string output_of(const std::string& rel) const override { return folder_.output_of(rel); }
  bool exists(const std::string& output) const override { return folder_.exists(output); }
  int64_t bytes_of(const std::string& output) const override { return folder_.bytes_of(output); }
  // Size, the '<f2' header, XXH3 of the file.
  std::string damaged(const std::string& output, const Stored& stored, const std::vector<int64_t>& shape) const override;
  std::string describe(const std::string& output) const override { return folder_.describe(output); }
  Stored write(const std::string& output, const Tensor& features, int worker) override;
  // As NpyFolderSink's, the values encoded as they come: a value beyond
  // float16's range fails the input at its chunk, naming the same index.
  std::unique_ptr<ChunkWriter> open_chunked(const std::string& output, int worker) override;

 private:
  std::filesystem::path outdir_;
  NpyFolderSink folder_;
  std::string source_;
};

}  // namespace featpipe
