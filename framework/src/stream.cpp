// Streams: the session's push path fed capture buffers. Batch runs are the
// same path with one push and a flush, so the two agree by construction.
#include "session.hpp"


namespace featpipe {

struct Stream::Impl {
  std::shared_ptr<const Pipeline> pipe;
  StreamFormat format;
  std::unique_ptr<Session> session;
  SessionImpl* s = nullptr;
  sdk::Spec in_spec;
  std::vector<float> planar;  // pushed samples, planar [channel, time]

  // Pull mode: frames waiting, and those handed out by the last pull.
  FrameBuffer pending;
  std::vector<float> pulled;
  FramesView like{};  // the output's shape (frames ignored), for empty pulls
  std::function<void(const FramesView&)> callback;
  double latency = 0;

  void begin() {
    pending.clear();
    s->begin(in_spec);
  }

  void on_chunk(const fp_tensor& t, const sdk::Spec& spec) {
    FramesView v;
    v.data = t.data;
    v.rank = t.rank;
    std::memcpy(v.shape, t.shape, sizeof(int64_t) * static_cast<size_t>(t.rank));
    v.stream_axis = std::max(spec.stream_axis(), 0);
    if (callback) {
      callback(v);
      return;
    }
    like = v;
    pending.append(t, v.stream_axis);
  }

  void push_planar(size_t frames) {
    fp_tensor t{};
    t.data = planar.data();
    if (format.channels == 1) {
      t.rank = 1;
      t.shape[0] = static_cast<int64_t>(frames);
    } else {
      t.rank = 2;
      t.shape[0] = format.channels;
      t.shape[1] = static_cast<int64_t>(frames);
    }
    s->push(0, t);
  }

  template <class T>
  void push(const T* x, size_t frames, float scale) {
    const size_t c = static_cast<size_t>(format.channels);
    if (planar.size() < frames * c) planar.resize(frames * c);
    for (size_t ch = 0; ch < c; ++ch) {
      float* dst = planar.data() + ch * frames;
      for (size_t f = 0; f < frames; ++f) dst[f] = static_cast<float>(x[f * c + ch]) * scale;
    }
    for (size_t k = 0; k < frames * c; ++k)
      if (!std::isfinite(planar[k])) throw Error("pushed samples hold a non-finite value (NaN or Inf) at frame " + std::to_string(k % frames));
    push_planar(frames);
  }
};

Stream::Stream(std::shared_ptr<const Pipeline> pipeline, StreamFormat format) : impl_(std::make_unique<Impl>()) {
  Impl& m = *impl_;
  if (!pipeline) throw Error("no pipeline");
  if (auto b = pipeline->batch_only_step()) {
    const StepInfo& step = pipeline->steps()[*b];
    throw Error(step.where + ": step " + std::to_string(*b + 1) + " '" + step.use +
                "' needs the whole input, so this pipeline cannot stream" +
                (step.stream.whole_input_reason.empty() ? "" : ": " + step.stream.whole_input_reason));
  }
  const StepInfo& first = pipeline->steps().front();
  if (first.output.stream_axis < 0)
    throw Error(first.where + ": step 1 '" + first.use + "' gives " + first.output.axes_text() +
                ", with no time axis to stream along: streams take audio pipelines (run images and tensors per "
                "input with Session::run)");
  if (format.channels < 1) throw Error("a stream needs at least one channel");
  if (!(format.sample_rate > 0)) throw Error("a stream needs a positive sample rate");
  m.pipe = std::move(pipeline);
  m.format = format;
  m.session = m.pipe->session();
  m.s = &Internal::of(*m.session);
  m.s->check_each = true;  // chunks are small: name a NaN's step at once
  m.in_spec = format.channels == 1 ? sdk::Spec({{"time", -1}}, 0) : sdk::Spec({{"channel", format.channels}, {"time", -1}}, 1);
  m.in_spec.set_attr("sample_rate", format.sample_rate);
  m.s->on_output = [&m](const fp_tensor& t, const sdk::Spec& spec) { m.on_chunk(t, spec); };
  m.begin();
  // The first step, agreed on this stream's raw input (its rate decides a
  // resampler's delay), then the rest as loaded.
  {
    const StepDef& def = Internal::of(*m.pipe).steps.front();
    StageHandle probe(def, m.pipe->file());
    fp_spec out{};
    fp_stream_info info{};
    info.struct_size = sizeof info;
    probe.check(probe.get()->configure(probe.get(), &m.in_spec.raw(), &out, &info));
    const double rest = stream_latency(Internal::of(*m.pipe).steps, 1);
    m.latency = static_cast<double>(info.lookahead) + (info.hop > 0 ? info.hop : 1.0) * rest;
  }
}

Stream::~Stream() = default;

void Stream::push(const float* x, size_t frames) {
  if (frames) impl_->push(x, frames, 1.0f);
}

void Stream::push_s16(const int16_t* x, size_t frames) {
  if (frames) impl_->push(x, frames, 1.0f / 32768.0f);
}

FramesView Stream::pull() {
  Impl& m = *impl_;
  FramesView v = m.like;
  v.data = nullptr;
  if (v.rank) v.shape[v.stream_axis] = 0;
  if (m.pending.frames() == 0 || m.callback) return v;
  m.pending.take(m.pulled, v.shape, v.rank);
  v.data = m.pulled.data();
  return v;
}

void Stream::on_frames(std::function<void(const FramesView&)> callback) { impl_->callback = std::move(callback); }

void Stream::flush() {
  impl_->s->finish(0);
}

void Stream::reset() { impl_->begin(); }

std::vector<std::string> Stream::axes() const {
  return impl_->pipe->steps().back().output.axes;
}

const Pipeline& Stream::pipeline() const { return *impl_->pipe; }

double Stream::latency_samples() const { return impl_->latency; }

}  // namespace featpipe
