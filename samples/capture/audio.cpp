// Audio: raw s16le mono PCM from standard input, or the microphone through
// ALSA, pushed in 10 ms buffers into a featpipe::Stream. Each completed
// feature frame arrives in the stream's callback; every `every` frames one
// line is printed: time, input level, energy (mean log-mel) and the nearest
// class.
#include "capture.hpp"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>

#ifdef CAPTURE_HAVE_ALSA
#include <alsa/asoundlib.h>
#endif

namespace capture {
namespace {

// Where samples come from: read() fills up to `frames` samples and returns
// how many, 0 at the end of the input.
class Source {
 public:
  virtual ~Source() = default;
  virtual size_t read(int16_t* buf, size_t frames) = 0;
};

// Raw signed 16-bit little-endian mono PCM on standard input
// (`arecord -f S16_LE -r 16000 -c 1 -t raw`, or `sox x.wav -t raw -e signed -b 16 -c 1 -`).
class StdinSource final : public Source {
 public:
  size_t read(int16_t* buf, size_t frames) override {
    auto* bytes = reinterpret_cast<char*>(buf);
    size_t have = carry_ ? 1 : 0;  // an odd byte left over by the last read
    if (carry_) bytes[0] = carry_byte_;
    carry_ = false;
    const size_t want = frames * 2;
    while (have < want) {  // fill the buffer: pipes deliver what they have
      ssize_t n = ::read(STDIN_FILENO, bytes + have, want - have);
      if (n < 0 && errno == EINTR) {
        if (g_stop) break;
        continue;
      }
      if (n < 0) throw featpipe::Error(std::string("reading standard input: ") + std::strerror(errno));
      if (n == 0) break;
      have += static_cast<size_t>(n);
    }
    if (have % 2) carry_ = true, carry_byte_ = bytes[have - 1];
    return have / 2;
  }

 private:
  bool carry_ = false;
  char carry_byte_ = 0;
};

#ifdef CAPTURE_HAVE_ALSA
// The microphone: an ALSA capture device ("default", "hw:1,0", ...), mono
// S16_LE at the requested rate (ALSA's plug layer converts if needed).
class AlsaSource final : public Source {
 public:
  AlsaSource(const std::string& device, unsigned rate) {
    int err = snd_pcm_open(&pcm_, device.c_str(), SND_PCM_STREAM_CAPTURE, 0);
    if (err < 0) throw featpipe::Error("ALSA device '" + device + "': " + snd_strerror(err));
    // Interleaved S16_LE mono, resampling allowed, 100 ms of device buffer.
    err = snd_pcm_set_params(pcm_, SND_PCM_FORMAT_S16_LE, SND_PCM_ACCESS_RW_INTERLEAVED, 1, rate, 1, 100000);
    if (err < 0) throw featpipe::Error("ALSA device '" + device + "': " + snd_strerror(err));
  }
  ~AlsaSource() override { snd_pcm_close(pcm_); }
  size_t read(int16_t* buf, size_t frames) override {
    while (!g_stop) {
      snd_pcm_sframes_t n = snd_pcm_readi(pcm_, buf, frames);
      if (n >= 0) return static_cast<size_t>(n);
      // An overrun (-EPIPE: we were too slow) or a suspend: recover, go on.
      if (n == -EPIPE) std::fprintf(stderr, "capture: ALSA overrun, samples lost\n");
      if (snd_pcm_recover(pcm_, static_cast<int>(n), 1) < 0)
        throw featpipe::Error(std::string("ALSA read: ") + snd_strerror(static_cast<int>(n)));
    }
    return 0;
  }

 private:
  snd_pcm_t* pcm_ = nullptr;
};
#endif

std::unique_ptr<Source> open_source(const Options& o) {
  if (o.audio == "-") return std::make_unique<StdinSource>();
  if (o.audio.rfind("alsa:", 0) == 0) {
#ifdef CAPTURE_HAVE_ALSA
    return std::make_unique<AlsaSource>(o.audio.substr(5), static_cast<unsigned>(o.rate));
#else
    throw featpipe::Error("this capture was built without ALSA (install libasound2-dev and rebuild)");
#endif
  }
  throw featpipe::Error("--audio takes '-' (raw s16le on standard input) or alsa:DEVICE, got '" + o.audio + "'");
}

// Running sums of feature frames: a block (one printed line) and the whole input.
struct Accumulator {
  std::vector<double> sum;
  long frames = 0;
  void add(const float* frame, size_t width) {
    if (sum.size() != width) sum.assign(width, 0.0);
    for (size_t k = 0; k < width; ++k) sum[k] += frame[k];
    ++frames;
  }
  std::vector<float> mean() const {
    std::vector<float> m(sum.size());
    for (size_t k = 0; k < sum.size(); ++k) m[k] = static_cast<float>(sum[k] / static_cast<double>(frames));
    return m;
  }
  double energy() const {  // mean of all values: the mean log-mel
    double e = 0;
    for (double s : sum) e += s;
    return e / static_cast<double>(frames) / static_cast<double>(sum.size());
  }
  void clear() {
    std::fill(sum.begin(), sum.end(), 0.0);
    frames = 0;
  }
};

}  // namespace

int run_audio(const Options& o) {
  auto source = open_source(o);  // first: a bad source fails before any work
  auto pipe = featpipe::Pipeline::load(o.pipeline);
  const featpipe::StepInfo& last = pipe->steps().back();
  if (last.output.rank() != 2 || last.output.stream_axis != 0)
    throw featpipe::Error(o.pipeline + ": the capture sample expects [frame, feature] output, got " +
                          last.output.axes_text());
  Prototypes protos;
  protos.build(*pipe, o.classes);

  // Seconds per output frame: the hops of the steps after the source, at
  // the rate the source delivers (its sample_rate, or the input's).
  double hop = 1;
  for (size_t k = 1; k < pipe->steps().size(); ++k)
    if (pipe->steps()[k].stream.hop > 0) hop *= pipe->steps()[k].stream.hop;
  const double source_rate = pipe->steps().front().output.attr("sample_rate");
  const double frame_seconds = hop / (std::isfinite(source_rate) ? source_rate : o.rate);

  std::printf("# pipeline %s (%s): output %s, %.1f ms per frame, latency %.0f samples\n", pipe->name().c_str(),
              o.pipeline.c_str(), last.output.axes_text().c_str(), frame_seconds * 1e3, pipe->latency_samples());
  std::printf("# classes:");
  for (size_t c = 0; c < protos.size(); ++c) std::printf(" %s", protos.label(static_cast<int>(c)).c_str());
  std::printf("\n");

  featpipe::Stream stream(pipe, featpipe::StreamFormat{o.rate, 1});
  Accumulator block, total;
  long emitted = 0;  // frames printed so far (index of the block's first frame)
  // Level of the samples pushed since the last line (RMS in dB full scale;
  // it runs ahead of the frames by the pipeline's latency).
  double level_sum = 0, level_n = 0;
  auto print_block = [&] {
    if (block.frames == 0) return;
    const Prototypes::Match m = protos.nearest(block.mean());
    const double level = 10 * std::log10(std::max(level_sum / std::max(level_n, 1.0), 1e-10));
    std::printf("t=%.3f frames=%ld level=%.1fdB energy=%.3f nearest=%s cos=%.4f\n",
                static_cast<double>(emitted) * frame_seconds, block.frames, level, block.energy(),
                protos.label(m.index).c_str(), m.cosine);
    std::fflush(stdout);
    emitted += block.frames;
    block.clear();
    level_sum = level_n = 0;
  };
  // Called inside push/flush with each run of frames as soon as they are complete.
  stream.on_frames([&](const featpipe::FramesView& v) {
    const size_t width = static_cast<size_t>(v.shape[1]);
    for (int64_t f = 0; f < v.frames(); ++f) {
      const float* frame = v.data + static_cast<size_t>(f) * width;
      block.add(frame, width);
      total.add(frame, width);
      if (block.frames == o.every) print_block();
    }
  });

  std::vector<int16_t> buf(static_cast<size_t>(o.chunk));
  const double limit = o.seconds > 0 ? o.seconds * o.rate : INFINITY;
  double samples = 0;
  while (!g_stop && samples < limit) {
    const size_t n = source->read(buf.data(), buf.size());
    if (n == 0) break;
    for (size_t k = 0; k < n; ++k) level_sum += (buf[k] / 32768.0) * (buf[k] / 32768.0);
    level_n += static_cast<double>(n);
    stream.push_s16(buf.data(), n);
    samples += static_cast<double>(n);
  }
  stream.flush();  // the last frames (end padding)
  print_block();
  if (total.frames == 0) {
    std::printf("summary frames=0 seconds=%.3f\n", samples / o.rate);
    return 0;
  }
  const Prototypes::Match m = protos.nearest(total.mean());
  std::printf("summary frames=%ld seconds=%.3f nearest=%s cos=%.6f\n", total.frames, samples / o.rate,
              protos.label(m.index).c_str(), m.cosine);
  return 0;
}

}  // namespace capture
