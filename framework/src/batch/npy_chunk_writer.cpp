#include "npy_chunk_writer.hpp"

#include <featpipe/npy.hpp>

#include "atomic_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

namespace fs = std::filesystem;

namespace featpipe {

namespace {

class NpyChunkWriter final : public ChunkWriter {
 public:
  NpyChunkWriter(fs::path out, int worker, size_t buffer) : out_(std::move(out)), worker_(worker), buffer_(buffer) {}
  ~NpyChunkWriter() override {
    if (fd_ >= 0) ::close(fd_);
    if (!tmp_.empty()) ::unlink(tmp_.c_str());
  }

  void append(const FramesView& v) override {
    if (v.empty()) return;
    check_frame_shape(v);
    const char* bytes = reinterpret_cast<const char*>(v.data);
    const size_t n = sizeof(float) * static_cast<size_t>(v.numel());
    if (fd_ < 0 && held_.size() + n <= buffer_) {
      held_.insert(held_.end(), bytes, bytes + n);
      return;
    }
    if (fd_ < 0) spill();
    pwrite_all(bytes, n, static_cast<off_t>(room_ + data_bytes_));
    data_bytes_ += n;
  }

  Stored commit(const std::vector<int64_t>& shape) override {
    if (fd_ < 0) {  // all in memory: as NpyFolderSink::write
      const Written w = write_atomic(
          out_, [&](std::ostream& os) { npy::write(os, shape, reinterpret_cast<const float*>(held_.data())); }, worker_);
      return {w.bytes, w.xxh3};
    }
    const std::string h = npy::header(shape);
    // Equal for any frame under ~2^40 values (the shape's digits stay far
    // from the next 64-byte step); else the bytes would differ from write()'s.
    if (h.size() != room_) fail("its .npy header does not fit the room kept for it");
    pwrite_all(h.data(), h.size(), 0);
    const int fd = fd_;
    fd_ = -1;
    if (::close(fd) != 0) fail(std::strerror(errno));  // a deferred write error (NFS, quotas)
    const std::string digest = file_xxh3(tmp_);
    if (digest.empty()) fail("cannot read it back");
    std::error_code ec;
    fs::rename(tmp_, out_, ec);
    if (ec) fail(ec.message());
    tmp_.clear();
    return {static_cast<int64_t>(h.size() + data_bytes_), digest};
  }

 private:
  [[noreturn]] void fail(const std::string& why) const { throw Error("cannot write " + out_.string() + ": " + why); }

  void check_frame_shape(const FramesView& v) {
    std::vector<int64_t> s(v.shape, v.shape + v.rank);
    s[static_cast<size_t>(v.stream_axis)] = 0;
    if (frame_shape_.empty()) frame_shape_ = s;
    else if (s != frame_shape_) fail("frames of another shape than the first");
    stream_axis_ = v.stream_axis;
  }

  // Opens the temporary file and moves the held frames to it, after room
  // for the header: its size with a 15-digit frame count, which any count
  // gives too (npy pads headers to 64 bytes), so it is written in place.
  void spill() {
    std::error_code ec;
    fs::create_directories(out_.parent_path(), ec);
    if (ec) throw Error("cannot create folder " + out_.parent_path().string() + ": " + ec.message());
    const fs::path tmp = temporary_path(out_, worker_);
    fd_ = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd_ < 0) fail(std::strerror(errno));
    tmp_ = tmp;
    std::vector<int64_t> most = frame_shape_;
    most[static_cast<size_t>(stream_axis_)] = int64_t{999999999999999};  // 15 digits: 10^15 frames
    room_ = npy::header(most).size();
    pwrite_all(held_.data(), held_.size(), static_cast<off_t>(room_));
    data_bytes_ = held_.size();
    std::vector<char>().swap(held_);
  }

  void pwrite_fd(int fd, const char* p, size_t n, off_t at) const {
    while (n > 0) {
      const ssize_t w = ::pwrite(fd, p, n, at);
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) fail(w < 0 ? std::strerror(errno) : "write failed");
      p += w;
      n -= static_cast<size_t>(w);
      at += w;
    }
  }
  void pwrite_all(const char* p, size_t n, off_t at) const { pwrite_fd(fd_, p, n, at); }

  fs::path out_, tmp_;  // tmp_: set while the temporary file exists
  int worker_;
  size_t buffer_;
  std::vector<char> held_;
  std::vector<int64_t> frame_shape_;  // the first chunk's, stream axis 0
  int stream_axis_ = 0;
  int fd_ = -1;
  size_t room_ = 0;        // bytes before the data
  size_t data_bytes_ = 0;  // in the file
};

}  // namespace

std::unique_ptr<ChunkWriter> npy_chunk_writer(fs::path out, int worker, size_t buffer) {
  return std::make_unique<NpyChunkWriter>(std::move(out), worker, buffer);
}

}  // namespace featpipe
