// The C API: exceptions stop here and become -1/NULL plus a per-thread
// message.
#include <featpipe/featpipe.h>
#include <featpipe/featpipe.hpp>

#include <cstring>
#include <new>

struct featpipe_pipeline {
  std::shared_ptr<const featpipe::Pipeline> p;
};
struct featpipe_session {
  std::unique_ptr<featpipe::Session> s;
  featpipe::Tensor last;
};
struct featpipe_stream {
  std::unique_ptr<featpipe::Stream> s;
  std::vector<std::string> axes;
};

namespace {

thread_local std::string last_error;

template <class F>
auto guard(F&& f, decltype(f()) failed) noexcept -> decltype(f()) {
  try {
    return f();
  } catch (const std::bad_alloc&) {
    last_error = "out of memory";
  } catch (const std::exception& e) {
    last_error = e.what();
  } catch (...) {
    last_error = "unknown error";
  }
  return failed;
}

template <class T>
T& need(T* p, const char* what) {
  if (!p) throw featpipe::Error(std::string(what) + " is NULL");
  return *p;
}

const char* text(const char* p, const char* what) {
  if (!p) throw featpipe::Error(std::string(what) + " is NULL");
  return p;
}

}  // namespace

extern "C" {

const char* featpipe_version(void) { return FEATPIPE_VERSION; }
const char* featpipe_last_error(void) { return last_error.c_str(); }

featpipe_pipeline* featpipe_load(const char* path) {
  return guard([&] { return new featpipe_pipeline{featpipe::Pipeline::load(text(path, "path"))}; },
               static_cast<featpipe_pipeline*>(nullptr));
}

void featpipe_pipeline_free(featpipe_pipeline* p) { delete p; }

double featpipe_latency_samples(const featpipe_pipeline* p) {
  return guard([&] { return need(p, "pipeline").p->batch_only_step() ? -1.0 : p->p->latency_samples(); }, -1.0);
}

featpipe_session* featpipe_session_new(const featpipe_pipeline* p) {
  return guard([&] { return new featpipe_session{need(p, "pipeline").p->session(), {}}; },
               static_cast<featpipe_session*>(nullptr));
}

void featpipe_session_free(featpipe_session* s) { delete s; }

int featpipe_run_file(featpipe_session* s, const char* path, featpipe_array* out) {
  return guard(
      [&] {
        featpipe_session& ss = need(s, "session");
        featpipe_array& o = need(out, "out");
        ss.last = ss.s->run_file(text(path, "path"));
        std::memset(&o, 0, sizeof o);
        o.data = ss.last.data.data();
        o.rank = static_cast<int32_t>(ss.last.shape.size());
        for (int k = 0; k < o.rank; ++k) {
          o.shape[k] = ss.last.shape[k];
          o.axes[k] = ss.last.axes[k].c_str();
        }
        return 0;
      },
      -1);
}

featpipe_stream* featpipe_stream_open(const featpipe_pipeline* p, double sample_rate, int channels) {
  return guard(
      [&] {
        auto st = std::make_unique<featpipe::Stream>(need(p, "pipeline").p, featpipe::StreamFormat{sample_rate, channels});
        auto axes = st->axes();
        return new featpipe_stream{std::move(st), std::move(axes)};
      },
      static_cast<featpipe_stream*>(nullptr));
}

void featpipe_stream_free(featpipe_stream* s) { delete s; }

int featpipe_stream_push(featpipe_stream* s, const float* x, size_t frames) {
  return guard(
      [&] {
        if (frames && !x) throw featpipe::Error("samples is NULL");
        need(s, "stream").s->push(x, frames);
        return 0;
      },
      -1);
}

int featpipe_stream_push_s16(featpipe_stream* s, const int16_t* x, size_t frames) {
  return guard(
      [&] {
        if (frames && !x) throw featpipe::Error("samples is NULL");
        need(s, "stream").s->push_s16(x, frames);
        return 0;
      },
      -1);
}

int featpipe_stream_pull(featpipe_stream* s, featpipe_array* out) {
  return guard(
      [&] {
        featpipe_stream& ss = need(s, "stream");
        featpipe_array& o = need(out, "out");
        featpipe::FramesView v = ss.s->pull();
        std::memset(&o, 0, sizeof o);
        o.data = v.data;
        o.rank = static_cast<int32_t>(ss.axes.size());
        o.stream_axis = v.stream_axis;
        for (int k = 0; k < o.rank; ++k) {
          o.shape[k] = k < v.rank ? v.shape[k] : 0;
          o.axes[k] = ss.axes[k].c_str();
        }
        return 0;
      },
      -1);
}

int featpipe_stream_flush(featpipe_stream* s) {
  return guard([&] { need(s, "stream").s->flush(); return 0; }, -1);
}

int featpipe_stream_reset(featpipe_stream* s) {
  return guard([&] { need(s, "stream").s->reset(); return 0; }, -1);
}

double featpipe_stream_latency_samples(const featpipe_stream* s) {
  return guard([&] { return need(s, "stream").s->latency_samples(); }, -1.0);
}

}  // extern "C"
