#include "stream.hpp"

#include "pipeline.hpp"

#include <cstring>
#include <mutex>

namespace featpipe::python {

namespace {

// Locks `m` with the GIL released: a thread holding `m` may wait for the
// GIL when it ends a nogil section, so none may wait for `m` holding it.
std::unique_lock<std::mutex> lock_without_gil(std::mutex& m) {
  std::unique_lock<std::mutex> lock(m, std::defer_lock);
  py::gil_scoped_release nogil;
  lock.lock();
  return lock;
}

class PyStream {
 public:
  PyStream(std::shared_ptr<PyPipeline> pipe, double sample_rate, int channels)
      : pipe_(std::move(pipe)), channels_(channels) {
    if (!(sample_rate > 0)) throw py::value_error("sample_rate must be a positive number of Hz");
    if (channels < 1) throw py::value_error("channels must be at least 1, got " + std::to_string(channels));
    try {
      stream_ = std::make_unique<Stream>(pipe_->pipe, StreamFormat{sample_rate, channels});
    } catch (const Error& e) {
      raise_pipeline_error(e.what(), pipe_->pipe->file());
    }
  }

  // Samples [time] or [time, channel] (interleaved, as capture APIs give):
  // int16, or floats in [-1, 1]; int32 and float64 are converted.
  void push(const py::array& chunk) {
    const int64_t frames = chunk.ndim() >= 1 ? chunk.shape(0) : 0;
    const int64_t ch = chunk.ndim() == 2 ? chunk.shape(1) : 1;
    if (chunk.ndim() != 1 && chunk.ndim() != 2)
      throw py::value_error("push takes samples [time] or [time, channel]; got " + std::to_string(chunk.ndim()) +
                            " dimensions");
    if (ch != channels_)
      throw py::value_error("the stream has " + std::to_string(channels_) + " channel(s); this buffer has " +
                            std::to_string(ch));
    auto lock = lock_without_gil(m_);
    try {
      if (chunk.dtype().is(py::dtype::of<int16_t>())) {
        auto a = py::array_t<int16_t, py::array::c_style>::ensure(chunk);
        py::gil_scoped_release nogil;
        stream_->push_s16(a.data(), static_cast<size_t>(frames));
      } else if (chunk.dtype().is(py::dtype::of<float>()) || chunk.dtype().is(py::dtype::of<double>())) {
        auto a = py::array_t<float, py::array::c_style | py::array::forcecast>::ensure(chunk);
        py::gil_scoped_release nogil;
        stream_->push(a.data(), static_cast<size_t>(frames));
      } else if (chunk.dtype().is(py::dtype::of<int32_t>())) {
        auto a = py::array_t<int32_t, py::array::c_style>::ensure(chunk);
        std::vector<float> f(static_cast<size_t>(frames * ch));
        for (size_t k = 0; k < f.size(); ++k) f[k] = static_cast<float>(a.data()[k]) * (1.0f / 2147483648.0f);
        py::gil_scoped_release nogil;
        stream_->push(f.data(), static_cast<size_t>(frames));
      } else {
        throw py::type_error("samples must be int16, int32, float32 or float64; got " +
                             py::str(chunk.dtype()).cast<std::string>());
      }
    } catch (const Error& e) {
      raise_input_error(e.what(), "<stream>");
    }
  }

  // The frames completed since the last pull, [frames, ...] as pipe(x).
  py::array pull() {
    auto lock = lock_without_gil(m_);
    return take();
  }

  // End of input: completes and returns the last frames.
  py::array flush() {
    auto lock = lock_without_gil(m_);
    try {
      py::gil_scoped_release nogil;
      stream_->flush();
    } catch (const Error& e) {
      raise_input_error(e.what(), "<stream>");
    }
    return take();
  }

  void reset() {
    auto lock = lock_without_gil(m_);
    stream_->reset();
  }

  py::object latency() const { return py::float_(stream_->latency_samples()); }
  py::tuple axes() const { return py::tuple(py::cast(stream_->axes())); }

 private:
  py::array take() {
    FramesView v = stream_->pull();
    std::vector<py::ssize_t> shape(v.shape, v.shape + v.rank);
    if (v.rank == 0) {  // nothing out yet: zero frames of the output's shape
      const TensorSpec& out = pipe_->pipe->steps().back().output;
      for (int k = 0; k < out.rank(); ++k) shape.push_back(k == out.stream_axis || out.shape[k] < 0 ? 0 : out.shape[k]);
    }
    py::array_t<float> out(shape);
    if (v.numel() > 0) std::memcpy(out.mutable_data(), v.data, sizeof(float) * static_cast<size_t>(v.numel()));
    return out;
  }

  std::shared_ptr<PyPipeline> pipe_;
  int channels_;
  std::unique_ptr<Stream> stream_;
  std::mutex m_;  // one push at a time, even from several threads
};

}  // namespace

py::object make_stream(std::shared_ptr<PyPipeline> pipe, double sample_rate, int channels) {
  return py::cast(std::make_unique<PyStream>(std::move(pipe), sample_rate, channels));
}

void bind_stream(py::module_& m) {
  using namespace pybind11::literals;
  py::class_<PyStream>(m, "Stream", R"(A live stream through a pipeline (Pipeline.stream).

with pipe.stream(sample_rate=48000, channels=2) as s:
    for chunk in capture:          # [time, channel] int16 or float32
        s.push(chunk)
        frames = s.pull()          # the frames completed so far
    tail = s.flush()               # the last frames, at the end of input)")
      .def("push", &PyStream::push, "samples"_a,
           "pushes samples [time] or [time, channel] (int16, int32, float32 in [-1, 1], float64)")
      .def("pull", &PyStream::pull, "the frames completed since the last pull (a copy)")
      .def("flush", &PyStream::flush, "end of input: completes the last frames and returns them")
      .def("reset", &PyStream::reset, "starts a new input with the same format (state cleared)")
      .def_property_readonly("latency_samples", &PyStream::latency,
                             "how long after a sample is pushed its frame completes, in pushed samples")
      .def_property_readonly("axes", &PyStream::axes, "the axes of pulled frames")
      .def("__enter__", [](py::object self) { return self; })
      .def("__exit__", [](PyStream&, const py::args&) { return false; });
}

}  // namespace featpipe::python
