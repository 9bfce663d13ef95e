// A file written whole or not at all: the bytes go to a temporary beside
// the target, which is renamed over it once they are synced. Opened before
// the work, so an unwritable target fails before hours of reading.
#pragma once

#include <filesystem>
#include <string>

namespace featpipe::cli {

class AtomicOutput {
 public:
  // Creates the temporary; throws Error naming the target when it cannot.
  explicit AtomicOutput(std::filesystem::path target);
  ~AtomicOutput();  // removes the temporary unless committed
  AtomicOutput(const AtomicOutput&) = delete;
  AtomicOutput& operator=(const AtomicOutput&) = delete;

  void commit(const std::string& bytes);  // throws Error, leaving the target as it was

 private:
  std::filesystem::path target_, temp_;
  int fd_ = -1;
};

}  // namespace featpipe::cli
