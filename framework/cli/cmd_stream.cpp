// featpipe stream PIPELINE --rate HZ [--channels C] [--format s16le|f32le]
//                [--chunk SAMPLES] -o OUT.npy
// Raw PCM from standard input, pushed in chunks; frames are appended to
// OUT.npy as they come (npy::GrowingFile: a valid array after each chunk).
#include "commands.hpp"

#include <featpipe/npy_growing.hpp>

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
  std::vector<std::string> plugins, allowed_plugin_dirs;
};

// The stream's frames into the growing .npy (grows along its first axis).
void append(npy::GrowingFile& out, const FramesView& v) {
  if (v.stream_axis != 0) throw Error("stream output must grow along its first axis");
  out.append(std::span<const int64_t>(v.shape + 1, v.shape + v.rank), v.data, v.frames());
}

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
  c->add_option("--allow-plugin", a->allowed_plugin_dirs, "folder a pipeline's plugins: may load from (repeatable; loading runs their code)");
  return [a] {
    LoadOptions lo;
    lo.plugin_files = a->plugins;
    lo.allowed_plugin_dirs = a->allowed_plugin_dirs;
    auto pipe = Pipeline::load(a->pipeline, lo);
    Stream stream(pipe, StreamFormat{a->rate, a->channels});
    std::fprintf(stderr, "featpipe: streaming, latency %.0f samples (%.1f ms at %g Hz)\n", stream.latency_samples(),
                 1000.0 * stream.latency_samples() / a->rate, a->rate);
    npy::GrowingFile out(a->out);
    const size_t width = a->format == "s16le" ? 2 : 4;
    const size_t frame_bytes = width * static_cast<size_t>(a->channels);
    std::vector<char> buf(a->chunk * frame_bytes);
    size_t have = 0;
    int64_t samples = 0;
    auto push = [&](size_t frames) {
      if (width == 2) stream.push_s16(reinterpret_cast<const int16_t*>(buf.data()), frames);
      else stream.push(reinterpret_cast<const float*>(buf.data()), frames);
      samples += static_cast<int64_t>(frames);
      if (FramesView v = stream.pull(); !v.empty()) append(out, v);
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
    if (FramesView v = stream.pull(); !v.empty()) append(out, v);
    std::vector<int64_t> frame_shape;
    const TensorSpec& spec = pipe->steps().back().output;
    for (int k = 1; k < spec.rank(); ++k) frame_shape.push_back(std::max<int64_t>(spec.shape[k], 0));
    out.finish(frame_shape);
    std::cerr << "featpipe: streamed " << samples << " samples (" << samples / a->rate << " s) to " << a->out << "\n";
    return 0;
  };
}

}  // namespace featpipe::cli
