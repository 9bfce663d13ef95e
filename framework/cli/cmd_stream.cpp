// featpipe stream PIPELINE --rate HZ [--channels C] [--format s16le|f32le]
//                [--chunk SAMPLES] -o OUT.npy
// Raw PCM from standard input, pushed in chunks; frames are appended to
// OUT.npy as they come (npy::GrowingFile: a valid array after each chunk).
#include "commands.hpp"
#include "options.hpp"

#include <featpipe/npy_growing.hpp>

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

namespace featpipe::cli {

namespace {

struct StreamArgs {
  std::string pipeline, out, format = "s16le";
  double rate = 0;
  int channels = 1;
  size_t chunk = 160;
  std::vector<std::string> plugins, allowed_plugin_dirs;
};

// "RIFF" <size> "WAVE" (and its big-endian and 64-bit kin): a WAV file
// piped in whole, whose header would be heard as 44 bytes of noise.
constexpr size_t kWavHeadBytes = 12;
bool is_wav_header(const std::vector<char>& b) {
  if (b.size() < kWavHeadBytes) return false;
  const std::string riff(b.data(), 4), wave(b.data() + 8, 4);
  return (riff == "RIFF" || riff == "RIFX" || riff == "RF64") && wave == "WAVE";
}

std::string wav_on_stdin_message(const StreamArgs& a) {
  const std::string fmt = a.format == "s16le" ? "-e signed -b 16" : "-e float -b 32";
  char rate[32];
  std::snprintf(rate, sizeof rate, "%g", a.rate);
  return "standard input starts with a WAV header (RIFF....WAVE), but `featpipe stream` reads raw PCM (--format " +
         a.format + "): pipe raw samples instead, e.g. `sox x.wav -t raw -r " + rate + " " + fmt + " -c " +
         std::to_string(a.channels) + " - | featpipe stream ...` or `arecord -t raw -f " +
         (a.format == "s16le" ? "S16_LE" : "FLOAT_LE") + " -r " + rate + " | featpipe stream ...`";
}

// Up to `n` bytes from standard input; fewer only at its end.
std::vector<char> read_stdin(size_t n) {
  std::vector<char> out(n);
  size_t have = 0;
  while (have < n) {
    ssize_t r = ::read(STDIN_FILENO, out.data() + have, n - have);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) throw Error(std::string("reading standard input: ") + std::strerror(errno));
    if (r == 0) break;
    have += static_cast<size_t>(r);
  }
  out.resize(have);
  return out;
}

// The engine's own refusal speaks to C++ callers (Session::run); a CLI user
// needs the command that does take the pipeline.
void refuse_unless_audio(const Pipeline& pipe, const std::string& path) {
  const StepInfo& first = pipe.steps().front();
  if (first.output.stream_axis >= 0) return;
  throw Error("`featpipe stream` reads raw PCM audio from stdin; " + path + " starts with " + first.use + " (giving " +
              first.output.axes_text() + ", no time axis to stream along): run it on files with `featpipe run`");
}

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
  c->add_option("--rate", a->rate, "sample rate of the input, Hz")->required()->check(positive_number("Hz, e.g. 16000"));
  c->add_option("--channels", a->channels, "interleaved channels")->check(whole_number(1, 64))->capture_default_str();
  c->add_option("--format", a->format, "sample format: s16le (16-bit integers) or f32le (floats in [-1, 1])")
      ->check(CLI::IsMember({"s16le", "f32le"}))
      ->capture_default_str();
  c->add_option("--chunk", a->chunk, "samples (per channel) per push")->check(whole_number(1, 1 << 24))->capture_default_str();
  c->add_option("-o,--output", a->out, "output .npy file")->required();
  c->add_option("--plugin", a->plugins, "extra plugin file (repeatable)");
  c->add_option("--allow-plugin", a->allowed_plugin_dirs, "folder a pipeline's plugins: may load from (repeatable; loading runs their code)");
  return [a] {
    LoadOptions lo;
    lo.plugin_files = a->plugins;
    lo.allowed_plugin_dirs = a->allowed_plugin_dirs;
    auto pipe = Pipeline::load(a->pipeline, lo);
    refuse_unless_audio(*pipe, a->pipeline);
    Stream stream(pipe, StreamFormat{a->rate, a->channels});
    std::fprintf(stderr, "featpipe: streaming, latency %.0f samples (%.1f ms at %g Hz)\n", stream.latency_samples(),
                 1000.0 * stream.latency_samples() / a->rate, a->rate);
    // Before the output exists: a refused input leaves nothing behind.
    const std::vector<char> head = read_stdin(kWavHeadBytes);
    if (is_wav_header(head)) throw Error(wav_on_stdin_message(*a));
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
    // Whole chunks go to the stream as they fill; the rest waits in `buf`.
    auto feed = [&](const char* p, size_t n) {
      while (n) {
        const size_t take = std::min(n, buf.size() - have);
        std::memcpy(buf.data() + have, p, take);
        have += take, p += take, n -= take;
        if (have == buf.size()) {
          push(a->chunk);
          have = 0;
        }
      }
    };
    feed(head.data(), head.size());
    for (std::vector<char> more; !(more = read_stdin(buf.size())).empty();) feed(more.data(), more.size());
    if (have % frame_bytes)
      std::cerr << "featpipe: warning: ignoring " << count_text(have % frame_bytes, "trailing byte")
                << " (not a whole sample frame)\n";
    if (have >= frame_bytes) push(have / frame_bytes);
    stream.flush();
    if (FramesView v = stream.pull(); !v.empty()) append(out, v);
    std::vector<int64_t> frame_shape;
    const TensorSpec& spec = pipe->steps().back().output;
    for (int k = 1; k < spec.rank(); ++k) frame_shape.push_back(std::max<int64_t>(spec.shape[k], 0));
    out.finish(frame_shape);
    std::cerr << "featpipe: streamed " << count_text(static_cast<size_t>(samples), "sample") << " (" << samples / a->rate << " s) to " << a->out << "\n";
    return 0;
  };
}

}  // namespace featpipe::cli
