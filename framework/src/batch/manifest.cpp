#include "manifest.hpp"

#include <featpipe/featpipe.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace featpipe {

Manifest::Manifest(const std::string& path) : path_(path) {
  fd_ = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) throw Error(path + ": cannot write the manifest: " + std::strerror(errno));
  // A run killed mid-line leaves a torn last line: start ours on a new one.
  struct stat st{};
  if (::fstat(fd_, &st) == 0 && st.st_size > 0) {
    int rfd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    char last = '\n';
    if (rfd >= 0) {
      if (::pread(rfd, &last, 1, st.st_size - 1) != 1) last = '\n';
      ::close(rfd);
    }
    if (last != '\n' && ::write(fd_, "\n", 1) != 1) throw Error(path + ": cannot write the manifest");
  }
}

Manifest::~Manifest() {
  if (fd_ >= 0) ::close(fd_);
}

void Manifest::append(const ManifestEntry& entry) {
  const std::string line = entry.line();
  std::lock_guard<std::mutex> lock(mu_);
  ssize_t n = ::write(fd_, line.data(), line.size());
  if (n != static_cast<ssize_t>(line.size())) throw Error(path_ + ": cannot append to the manifest: " + std::strerror(errno));
}

std::string manifest_name(int shard_index, int shard_count) {
  if (shard_count <= 1) return "manifest.jsonl";
  return "manifest-" + std::to_string(shard_index) + "-of-" + std::to_string(shard_count) + ".jsonl";
}

}  // namespace featpipe
