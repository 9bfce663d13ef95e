#include "atomic_file.hpp"

#include <featpipe/featpipe.hpp>

#include <fcntl.h>
#include <unistd.h>
#define XXH_STATIC_LINKING_ONLY  // XXH3_state_t on the stack
#include <xxhash.h>
// Debian's libxxhash picks SSE2/AVX2/AVX-512 at run time (about twice the
// inlined SSE2 code's speed here).
#include <xxh_x86dispatch.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <streambuf>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace featpipe {

namespace {
const std::string& host_name() {
  static const std::string name = [] {
    char buf[256] = {};
    return gethostname(buf, sizeof buf - 1) == 0 && buf[0] ? std::string(buf) : std::string("localhost");
  }();
  return name;
}
std::string canonical_hex(XXH64_hash_t h);

// An ostream's buffer over a file descriptor that keeps the errno of the
// write that failed: std::ofstream only says "failed", and a full disk
// must be reported as one.
class FdBuf final : public std::streambuf {
 public:
  explicit FdBuf(int fd) : fd_(fd) {
    setp(buf_, buf_ + sizeof buf_);
    XXH3_64bits_reset(&hash_);
  }
  int error() const { return error_; }
  Written written() const { return {bytes_, canonical_hex(XXH3_64bits_digest(&hash_))}; }

 protected:
  int_type overflow(int_type c) override {
    if (!drain()) return traits_type::eof();
    if (!traits_type::eq_int_type(c, traits_type::eof())) {
      *pptr() = traits_type::to_char_type(c);
      pbump(1);
    }
    return traits_type::not_eof(c);
  }
  int sync() override { return drain() ? 0 : -1; }
  // A feature array arrives in one call: written from the caller's memory,
  // not copied through the buffer first.
  std::streamsize xsputn(const char* s, std::streamsize n) override {
    if (n <= 0) return 0;  // an empty array's data may be a null pointer
    if (n <= epptr() - pptr()) {
      std::memcpy(pptr(), s, static_cast<size_t>(n));
      pbump(static_cast<int>(n));
      return n;
    }
    if (!drain() || !write_all(s, static_cast<size_t>(n))) return 0;
    return n;
  }

 private:
  bool drain() {
    const bool ok = write_all(pbase(), static_cast<size_t>(pptr() - pbase()));
    setp(buf_, buf_ + sizeof buf_);
    return ok;
  }
  bool write_all(const char* p, size_t size) {
    const char* end = p + size;
    while (!error_ && p < end) {
      const ssize_t n = ::write(fd_, p, static_cast<size_t>(end - p));
      if (n > 0) {
        XXH3_64bits_update(&hash_, p, static_cast<size_t>(n));
        bytes_ += n;
        p += n;
      } else if (n < 0 && errno == EINTR) {
        continue;
      } else {
        error_ = n < 0 ? errno : EIO;
      }
    }
    return !error_;
  }
  int fd_;
  int error_ = 0;
  int64_t bytes_ = 0;
  XXH3_state_t hash_;  // of the bytes written, while they are in cache (~2% of a log-mel run)
  char buf_[1 << 16];
};

std::string canonical_hex(XXH64_hash_t h) {
  XXH64_canonical_t c;
  XXH64_canonicalFromHash(&c, h);
  static const char* hex = "0123456789abcdef";
  std::string s;
  for (unsigned char b : c.digest) s += hex[b >> 4], s += hex[b & 15];
  return s;
}

}  // namespace

std::string file_xxh3(const fs::path& file) { return file_xxh3(file, 0, -1); }

// bytes < 0: to the end.
std::string file_xxh3(const fs::path& file, int64_t offset, int64_t bytes) {
  const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return "";
  XXH3_state_t state;
  XXH3_64bits_reset(&state);
  std::vector<char> buf(1 << 16);
  int64_t left = bytes;
  while (left != 0) {
    const size_t want = left < 0 ? buf.size() : static_cast<size_t>(std::min<int64_t>(left, static_cast<int64_t>(buf.size())));
    const ssize_t n = ::pread(fd, buf.data(), want, static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 || (n == 0 && left > 0)) {
      ::close(fd);
      return "";
    }
    if (n == 0) break;
    XXH3_64bits_update(&state, buf.data(), static_cast<size_t>(n));
    offset += n;
    if (left > 0) left -= n;
  }
  ::close(fd);
  return canonical_hex(XXH3_64bits_digest(&state));
}

std::string bytes_xxh3(std::string_view bytes) { return canonical_hex(XXH3_64bits(bytes.data(), bytes.size())); }

fs::path temporary_path(const fs::path& out, int writer) {
  std::string name = ".";  // appended, not "." + string: GCC 12 warns falsely (-Wrestrict, PR105651)
  name += out.filename().string();
  // The host too: a run cleans the leftovers of its host's dead pids
  // (stale_tmp.hpp), never those of a shard on another machine.
  name += ".tmp-" + std::to_string(getpid()) + "-" + std::to_string(writer) + "@" + host_name();
  return out.parent_path() / name;
}

namespace {

// linkat() of an O_TMPFILE file goes through /proc/self/fd (AT_EMPTY_PATH
// needs a capability).
bool proc_fd_available() {
  static const bool ok = ::access("/proc/self/fd", X_OK) == 0;
  return ok;
}

}  // namespace

// An unnamed file (O_TMPFILE) in the output's folder, linked under its name
// once complete: one directory entry made instead of a temporary's and a
// rename, which is a third of a small output's cost on ext4, and a killed
// run leaves nothing behind. A named temporary and a rename where the
// filesystem has no O_TMPFILE, and to replace a file (linkat does not).
Written write_atomic(const fs::path& out, const std::function<void(std::ostream&)>& body, int writer) {
  std::error_code ec;
  const fs::path dir = out.parent_path();
  fs::create_directories(dir, ec);
  if (ec) throw Error("cannot create folder " + dir.string() + ": " + ec.message());
  fs::path tmp;
  int fd = proc_fd_available() ? ::open(dir.empty() ? "." : dir.c_str(), O_TMPFILE | O_WRONLY | O_CLOEXEC, 0644) : -1;
  const bool unnamed = fd >= 0;
  if (!unnamed) {
    tmp = temporary_path(out, writer);
    fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) throw Error("cannot write " + out.string() + ": " + std::strerror(errno));
  }
  auto fail = [&](const std::string& why) {
    if (fd >= 0) ::close(fd);
    if (!tmp.empty()) fs::remove(tmp, ec);
    throw Error("cannot write " + out.string() + ": " + why);
  };
  Written done;
  {
    auto buf = std::make_unique<FdBuf>(fd);
    std::ostream os(buf.get());
    std::string why;
    try {
      body(os);
      os.flush();
      if (buf->error()) why = std::strerror(buf->error());
      else if (!os) why = "write failed";
    } catch (const std::exception& e) {
      why = buf->error() ? std::strerror(buf->error()) : e.what();
    }
    if (!why.empty()) fail(why);
    done = buf->written();
  }
  if (unnamed) {
    const std::string self = "/proc/self/fd/" + std::to_string(fd);
    if (::linkat(AT_FDCWD, self.c_str(), AT_FDCWD, out.c_str(), AT_SYMLINK_FOLLOW) == 0) {
      // close() can report a deferred write error (NFS, quotas).
      if (::close(fd) != 0) {
        const int e = errno;
        fd = -1;
        fs::remove(out, ec);
        fail(std::strerror(e));
      }
      return done;
    }
    if (errno != EEXIST) fail(std::strerror(errno));
    // `out` exists: linked under the temporary name, renamed over it below.
    tmp = temporary_path(out, writer);
    fs::remove(tmp, ec);
    if (::linkat(AT_FDCWD, self.c_str(), AT_FDCWD, tmp.c_str(), AT_SYMLINK_FOLLOW) != 0) {
      const fs::path none;
      const int e = errno;
      tmp = none;
      fail(std::strerror(e));
    }
  }
  const int closing = fd;
  fd = -1;
  if (::close(closing) != 0) fail(std::strerror(errno));
  fs::rename(tmp, out, ec);
  if (ec) fail(ec.message());
  return done;
}

}  // namespace featpipe
