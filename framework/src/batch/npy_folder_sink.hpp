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
  std::string describe(const std::string& output) const override { return (outdir_ / output).string(); }
  // Atomic: a killed run leaves no truncated file under the final name.
  void write(const std::string& output, const Tensor& features, int worker) override;

 private:
  std::filesystem::path outdir_;
};

}  // namespace featpipe
