// An .npy file that grows along its first axis as frames come (what
// `featpipe stream -o OUT.npy` writes): after every append the file is a
// valid array of the frames so far, so a killed stream leaves a readable
// file. The header has a fixed size and is rewritten in place.
//
// Header-only like npy.hpp; POSIX (pwrite), float32 little-endian.
#pragma once

#include <featpipe/npy.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

namespace featpipe::npy {

class GrowingFile {
 public:
  // Creates (truncates) `path`; throws std::runtime_error when it cannot.
  explicit GrowingFile(std::string path) : path_(std::move(path)) {
    fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd_ < 0) throw std::runtime_error(path_ + ": cannot write: " + std::strerror(errno));
  }
  // A file that failed before any frame is removed: nothing is left.
  ~GrowingFile() {
    if (fd_ >= 0) ::close(fd_);
    if (!finished_ && frames_ == 0) ::unlink(path_.c_str());
  }
  GrowingFile(const GrowingFile&) = delete;
  GrowingFile& operator=(const GrowingFile&) = delete;

  // `frames` frames of `frame_shape` (every axis but the first), C order.
  // The first call fixes the frame shape; later ones must repeat it.
  void append(std::span<const int64_t> frame_shape, const float* data, int64_t frames) {
    if (!started_) {
      frame_shape_.assign(frame_shape.begin(), frame_shape.end());
      started_ = true;
      write_header();
    } else if (!std::equal(frame_shape.begin(), frame_shape.end(), frame_shape_.begin(), frame_shape_.end())) {
      throw std::runtime_error(path_ + ": frames of another shape than the first");
    }
    size_t per_frame = 1;
    for (int64_t d : frame_shape_) per_frame *= static_cast<size_t>(d);
    const size_t bytes = sizeof(float) * per_frame * static_cast<size_t>(frames);
    write_all(data, bytes, kHeader + data_bytes_);
    data_bytes_ += bytes;
    frames_ += frames;
    write_header();
  }
  // The end of the stream; a stream without frames gets `frame_shape_if_empty`.
  void finish(std::span<const int64_t> frame_shape_if_empty) {
    if (!started_) frame_shape_.assign(frame_shape_if_empty.begin(), frame_shape_if_empty.end());
    write_header();
    finished_ = true;
  }
  int64_t frames() const { return frames_; }

  static constexpr size_t kHeader = 128;  // fixed, so the header can be rewritten in place

 private:
  void write_header() {
    std::vector<int64_t> shape{frames_};
    shape.insert(shape.end(), frame_shape_.begin(), frame_shape_.end());
    std::string h = header(shape);
    if (h.size() < kHeader) {  // pad the dict with spaces before its newline
      h.insert(h.size() - 1, kHeader - h.size(), ' ');
      const uint16_t len = static_cast<uint16_t>(kHeader - 10);
      h[8] = static_cast<char>(len & 0xff);
      h[9] = static_cast<char>(len >> 8);
    }
    if (h.size() != kHeader) throw std::runtime_error(path_ + ": array header too long");
    write_all(h.data(), h.size(), 0);
  }
  void write_all(const void* p, size_t n, size_t at) {
    const char* c = static_cast<const char*>(p);
    while (n) {
      ssize_t w = ::pwrite(fd_, c, n, static_cast<off_t>(at));
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) throw std::runtime_error(path_ + ": write failed: " + std::strerror(errno));
      c += w, n -= static_cast<size_t>(w), at += static_cast<size_t>(w);
    }
  }

  std::string path_;
  int fd_ = -1;
  bool started_ = false;
  std::vector<int64_t> frame_shape_;
  int64_t frames_ = 0;
  size_t data_bytes_ = 0;
  bool finished_ = false;
};

}  // namespace featpipe::npy
