// featpipe stream PIPELINE --rate HZ [--channels C] [--format s16le|f32le]
//                [--chunk SAMPLES] -o OUT.npy
// Raw PCM from standard input, pushed in chunks; frames are appended to
// OUT.npy as they come, its header rewritten after each chunk so the file
// is a valid array of the frames so far (a killed stream leaves a readable
// file).
#include "commands.hpp"

#include <featpipe/npy.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <iostream>

namespace featpipe::cli {

namespace {

struct StreamArgs {
  std::string pipeline, out, format = "s16le";
  double rate = 0;
  int channels = 1;
  size_t chunk = 160;
  std::vector<std::string> plugins;
};

// An .npy file that grows along its first axis.
class GrowingNpy {
 public:
  explicit GrowingNpy(const std::string& path) : path_(path) {
    fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd_ < 0) throw Error(path + ": cannot write: " + std::strerror(errno));
  }
  ~GrowingNpy() {
    if (fd_ >= 0) ::close(fd_);
    if (!finished_ && frames_ == 0) ::unlink(path_.c_str());  // failed before any frame: leave nothing
  }
  // Frames of `frame_shape` (everything but the first axis).
  void append(const FramesView& v) {
    if (v.stream_axis != 0) throw Error("stream output must grow along its first axis");
    if (frame_shape_.empty()) frame_shape_.assign(v.shape + 1, v.shape + v.rank), write_header();
    const size_t bytes = sizeof(float) * static_cast<size_t>(v.numel());
    write_all(v.data, bytes, kHeader + data_bytes_);
    data_bytes_ += bytes;
    frames_ += v.frames();
    write_header();
  }
  void finish(const std::vector<int64_t>& frame_shape_if_empty) {
    if (frame_shape_.empty()) frame_shape_ = frame_shape_if_empty;
    write_header();
    finished_ = true;
  }

 private:
  static constexpr size_t kHeader = 128;  // fixed, so the header can be rewritten in place
  void write_header() {
    std::vector<int64_t> shape{frames_};
    shape.insert(shape.end(), frame_shape_.begin(), frame_shape_.end());
    std::string h = npy::header(shape);
    if (h.size() < kHeader) {  // pad the dict with spaces before its newline
      h.insert(h.size() - 1, kHeader - h.size(), ' ');
      const uint16_t len = static_cast<uint16_t>(kHeader - 10);
      h[8] = static_cast<char>(len & 0xff);
      h[9] = static_cast<char>(len >> 8);
    }
    if (h.size() != kHeader) throw Error(path_ + ": array header too long");
    write_all(h.data(), h.size(), 0);
  }
  void write_all(const void* p, size_t n, size_t at) {
    const char* c = static_cast<const char*>(p);
    while (n) {
      ssize_t w = ::pwrite(fd_, c, n, static_cast<off_t>(at));
      if (w < 0) throw Error(path_ + ": write failed: " + std::strerror(errno));
      c += w, n -= static_cast<size_t>(w), at += static_cast<size_t>(w);
    }
  }
  std::string path_;
  int fd_ = -1;
  std::vector<int64_t> frame_shape_;
  int64_t frames_ = 0;
  size_t data_bytes_ = 0;
  bool finished_ = false;
};

}  // namespace

Action add_stream(CLI::App& app) {
  auto a = std::make_shared<StreamArgs>();
  CLI::App* c = app.add_subcommand("stream", "run a pipeline on raw PCM from standard input, as a live stream");
  c->add_option("pipeline", a->pipeline, "pipeline file (.yaml)")->required();
  c->add_option("--rate", a->rate, "sample rate of the input, Hz")->required()->check(CLI::PositiveNumber);
  c->add_option("--channels", a->channels, "interleaved channels")->check(CLI::Range(1, 64));
  c->add_option("--format", a->format, "sample format")->check(CLI::IsMember({"s16le", "f32le"}));
  c->add_option("--chunk", a->chunk, "samples (per channel) per push")->check(CLI::Range(1, 1 << 24));
  c->add_option("-o,--output", a->out, "output .npy file")->required();
  c->add_option("--plugin", a->plugins, "extra plugin file (repeatable)");
  return [a] {
    LoadOptions lo;
    lo.plugin_files = a->plugins;
    auto pipe = Pipeline::load(a->pipeline, lo);
    Stream stream(pipe, StreamFormat{a->rate, a->channels});
    std::fprintf(stderr, "featpipe: streaming, latency %.0f samples (%.1f ms at %g Hz)\n", stream.latency_samples(),
                 1000.0 * stream.latency_samples() / a->rate, a->rate);
    GrowingNpy out(a->out);
    const size_t width = a->format == "s16le" ? 2 : 4;
    const size_t frame_bytes = width * static_cast<size_t>(a->channels);
    std::vector<char> buf(a->chunk * frame_bytes);
    size_t have = 0;
    int64_t samples = 0;
    auto push = [&](size_t frames) {
      if (width == 2) stream.push_s16(reinterpret_cast<const int16_t*>(buf.data()), frames);
      else stream.push(reinterpret_cast<const float*>(buf.data()), frames);
      samples += static_cast<int64_t>(frames);
      if (FramesView v = stream.pull(); !v.empty()) out.append(v);
    };
    for (;;) {
      ssize_t n = ::read(STDIN_FILENO, buf.data() + have, buf.size() - have);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) throw Error(std::string("reading standard input: ") + std::strerror(errno));
      if (n == 0) break;
      have += static_cast<size_t>(n);
      if (have == buf.size()) {
        push(a->chunk);
        have = 0;
      }
    }
    if (have % frame_bytes)
      std::cerr << "featpipe: warning: ignoring " << have % frame_bytes << " trailing bytes (not a whole sample frame)\n";
    if (have >= frame_bytes) push(have / frame_bytes);
    stream.flush();
    if (FramesView v = stream.pull(); !v.empty()) out.append(v);
    std::vector<int64_t> frame_shape;
    const TensorSpec& spec = pipe->steps().back().output;
    for (int k = 1; k < spec.rank(); ++k) frame_shape.push_back(std::max<int64_t>(spec.shape[k], 0));
    out.finish(frame_shape);
    std::cerr << "featpipe: streamed " << samples << " samples (" << samples / a->rate << " s) to " << a->out << "\n";
    return 0;
  };
}

}  // namespace featpipe::cli
