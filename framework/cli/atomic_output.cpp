#include "atomic_output.hpp"

#include <featpipe/featpipe.hpp>
#include <featpipe/runner.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace fs = std::filesystem;

namespace featpipe::cli {

namespace {
[[noreturn]] void fail(const fs::path& target, const std::string& why) {
  throw Error("cannot write " + printable_name(target.string()) + ": " + why);
}
}  // namespace

AtomicOutput::AtomicOutput(fs::path target) : target_(std::move(target)) {
  std::error_code ec;
  if (fs::is_directory(target_, ec)) fail(target_, "it is a folder");
  const fs::path dir = target_.has_parent_path() ? target_.parent_path() : fs::path(".");
  std::string name = ".";  // appended, not "." + string: GCC 12 warns falsely (-Wrestrict, PR105651)
  name += target_.filename().string();
  name += ".tmp." + std::to_string(::getpid());
  temp_ = dir / name;
  fd_ = ::open(temp_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  if (fd_ < 0) fail(target_, std::strerror(errno));
}

AtomicOutput::~AtomicOutput() {
  if (fd_ >= 0) {
    ::close(fd_);
    ::unlink(temp_.c_str());
  }
}

void AtomicOutput::commit(const std::string& bytes) {
  size_t at = 0;
  while (at < bytes.size()) {
    const ssize_t n = ::write(fd_, bytes.data() + at, bytes.size() - at);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) fail(target_, n < 0 ? std::strerror(errno) : "nothing written");
    at += static_cast<size_t>(n);
  }
  if (::fsync(fd_) != 0) fail(target_, std::strerror(errno));
  const int closed = ::close(fd_);
  fd_ = -1;
  if (closed != 0) {
    const int err = errno;
    ::unlink(temp_.c_str());
    fail(target_, std::strerror(err));
  }
  if (::rename(temp_.c_str(), target_.c_str()) != 0) {
    const int err = errno;
    ::unlink(temp_.c_str());
    fail(target_, std::strerror(err));
  }
  // The rename itself lasts once the folder is synced.
  const fs::path dir = target_.has_parent_path() ? target_.parent_path() : fs::path(".");
  if (const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
}

}  // namespace featpipe::cli
