#include "chunk_file_writer.hpp"

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

class ChunkFileWriter final : public ChunkWriter {
 public:
  ChunkFileWriter(fs::path out, int worker, size_t buffer, ChunkLayout layout)
      : out_(std::move(out)), worker_(worker), buffer_(buffer), layout_(std::move(layout)) {}
  ~ChunkFileWriter() override {
    if (fd_ >= 0) ::close(fd_);
    if (!tmp_.empty()) ::unlink(tmp_.c_str());
  }

  void append(const FramesView& v) override {
    if (v.empty()) return;
    check_frame_shape(v);
    const size_t values = static_cast<size_t>(v.numel());
    const size_t n = layout_.value_bytes * values;
    const int64_t at = values_;
    values_ += static_cast<int64_t>(values);
    if (fd_ < 0 && held_.size() + n <= buffer_) {
      held_.resize(held_.size() + n);
      encode(v.data, values, at, held_.data() + held_.size() - n);
      return;
    }
    const char* bytes = reinterpret_cast<const char*>(v.data);
    if (layout_.encode) {  // checked before anything of this chunk is stored
      scratch_.resize(n);
      encode(v.data, values, at, scratch_.data());
      bytes = scratch_.data();
    }
    if (fd_ < 0) spill();
    pwrite_all(bytes, n, static_cast<off_t>(room_ + data_bytes_));
    data_bytes_ += n;
  }

  Stored commit(const std::vector<int64_t>& shape) override {
    if (fd_ < 0) {  // all in memory: as the sink's write()
      const std::string h = header_of(shape);
      const Written w = write_atomic(out_, [&](std::ostream& os) {
        os.write(h.data(), static_cast<std::streamsize>(h.size()));
        os.write(held_.data(), static_cast<std::streamsize>(held_.size()));
      }, worker_);
      return {w.bytes, w.xxh3};
    }
    const std::string h = header_of(shape);
    // Equal for any frame count up to max_frames (an .npy's shape digits
    // stay far from the next 64-byte step); else the bytes would differ
    // from write()'s.
    if (h.size() != room_) fail("its header does not fit the room kept for it");
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

  std::string header_of(const std::vector<int64_t>& shape) const {
    try {
      return layout_.header(shape);
    } catch (const Error&) {
      throw;
    } catch (const std::exception& e) {
      fail(e.what());
    }
  }

  void encode(const float* values, size_t n, int64_t at, char* out) const {
    if (layout_.encode) layout_.encode(values, n, at, out);
    else std::memcpy(out, values, n * sizeof(float));
  }

  void check_frame_shape(const FramesView& v) {
    std::vector<int64_t> s(v.shape, v.shape + v.rank);
    s[static_cast<size_t>(v.stream_axis)] = 0;
    if (frame_shape_.empty()) frame_shape_ = s;
    else if (s != frame_shape_) fail("frames of another shape than the first");
    stream_axis_ = v.stream_axis;
  }

  // Opens the temporary file and moves the held frames to it, after room
  // for the header: its size for max_frames, which any count up to it gives
  // too, so it is written in place.
  void spill() {
    std::vector<int64_t> most = frame_shape_;
    most[static_cast<size_t>(stream_axis_)] = layout_.max_frames;
    room_ = header_of(most).size();
    std::error_code ec;
    fs::create_directories(out_.parent_path(), ec);
    if (ec) throw Error("cannot create folder " + out_.parent_path().string() + ": " + ec.message());
    const fs::path tmp = temporary_path(out_, worker_);
    fd_ = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd_ < 0) fail(std::strerror(errno));
    tmp_ = tmp;
    pwrite_all(held_.data(), held_.size(), static_cast<off_t>(room_));
    data_bytes_ = held_.size();
    std::vector<char>().swap(held_);
  }

  void pwrite_all(const char* p, size_t n, off_t at) const {
    while (n > 0) {
      const ssize_t w = ::pwrite(fd_, p, n, at);
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) fail(w < 0 ? std::strerror(errno) : "write failed");
      p += w;
      n -= static_cast<size_t>(w);
      at += w;
    }
  }

  fs::path out_, tmp_;  // tmp_: set while the temporary file exists
  int worker_;
  size_t buffer_;
  ChunkLayout layout_;
  std::vector<char> held_;     // encoded
  std::vector<char> scratch_;  // one encoded chunk on its way to the file
  std::vector<int64_t> frame_shape_;  // the first chunk's, stream axis 0
  int stream_axis_ = 0;
  int64_t values_ = 0;  // appended
  int fd_ = -1;
  size_t room_ = 0;        // bytes before the data
  size_t data_bytes_ = 0;  // in the file
};

}  // namespace

std::unique_ptr<ChunkWriter> chunk_file_writer(fs::path out, int worker, size_t buffer, ChunkLayout layout) {
  return std::make_unique<ChunkFileWriter>(std::move(out), worker, buffer, std::move(layout));
}

}  // namespace featpipe
