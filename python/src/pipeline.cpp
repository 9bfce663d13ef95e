#include "pipeline.hpp"

#include "map.hpp"
#include "stream.hpp"
#include "validate_report.hpp"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

namespace featpipe::python {

SessionPool::Lease SessionPool::take() {
  {
    std::lock_guard lock(m_);
    if (!free_.empty()) {
      auto s = std::move(free_.back());
      free_.pop_back();
      return Lease(*this, std::move(s));
    }
  }
  return Lease(*this, pipe_->session());
}

void SessionPool::give_back(std::unique_ptr<Session> s) {
  std::lock_guard lock(m_);
  free_.push_back(std::move(s));
}

namespace {

LoadOptions options(const Origin& o) {
  LoadOptions lo;
  lo.plugin_files = o.plugins;
  lo.allowed_plugin_dirs = o.allowed_plugin_dirs;
  return lo;
}

std::shared_ptr<PyPipeline> finish(std::shared_ptr<const Pipeline> p, Origin origin) {
  auto pp = std::make_shared<PyPipeline>();
  pp->input = InputKind::of(*p);
  pp->pool = std::make_shared<SessionPool>(p);
  pp->pipe = std::move(p);
  pp->origin = std::move(origin);
  return pp;
}

std::string fspath(const py::object& x) {
  if (py::isinstance<py::str>(x)) return x.cast<std::string>();
  return py::module_::import("os").attr("fspath")(x).cast<std::string>();
}

bool is_path(const py::object& x) {
  return py::isinstance<py::str>(x) || py::hasattr(x, "__fspath__");
}

py::object none_if_nan(double v) { return std::isfinite(v) ? py::object(py::float_(v)) : py::object(py::none()); }

}  // namespace

std::shared_ptr<PyPipeline> PyPipeline::load(const std::string& path, std::vector<std::string> plugins,
                                             std::vector<std::string> allowed) {
  Origin o;
  o.plugins = std::move(plugins);
  o.allowed_plugin_dirs = std::move(allowed);
  o.source_name = path;
  std::shared_ptr<const Pipeline> p;
  {
    py::gil_scoped_release nogil;
    try {
      p = Pipeline::load(path, options(o));
    } catch (const Error& e) {
      py::gil_scoped_acquire gil;
      raise_pipeline_error(e.what(), path);
    }
  }
  // Kept to rebuild it elsewhere (pickle) from what was loaded, not from a
  // file that may have changed since.
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  o.text = text.str();
  std::error_code ec;
  o.base_dir = std::filesystem::absolute(path, ec).parent_path().string();
  return finish(std::move(p), std::move(o));
}

std::shared_ptr<PyPipeline> PyPipeline::parse(Origin o) {
  std::shared_ptr<const Pipeline> p;
  {
    py::gil_scoped_release nogil;
    try {
      p = Pipeline::parse(o.text, o.source_name, o.base_dir, options(o));
    } catch (const Error& e) {
      py::gil_scoped_acquire gil;
      raise_pipeline_error(e.what(), o.source_name);
    }
  }
  return finish(std::move(p), std::move(o));
}

namespace {

// `work(session)` on a borrowed session with the GIL released; the result
// as an array, or the engine's error as an InputError naming `input`.
template <class Work>
py::array run_released(SessionPool& pool, const std::string& input, Work&& work) {
  Tensor t;
  try {
    py::gil_scoped_release nogil;
    auto s = pool.take();
    t = work(*s);
  } catch (const Error& e) {
    raise_input_error(e.what(), input);
  }
  return to_numpy(std::move(t));
}

}  // namespace

py::array PyPipeline::call(const py::object& x, std::optional<double> sample_rate,
                           std::optional<std::vector<std::string>> axes, const std::string& layout) {
  if (is_path(x)) {
    const std::string path = fspath(x);
    if (sample_rate || axes)
      throw py::type_error("sample_rate and axes are for in-memory arrays; a file brings its own");
    return run_released(*pool, path, [&](Session& s) { return s.run_file(path); });
  }
  if (layout != "hwc" && layout != "chw") throw py::value_error("layout must be 'hwc' or 'chw', got '" + layout + "'");
  py::array a = py::array::ensure(x);
  if (!a || a.ndim() == 0) {
    PyErr_Clear();
    throw py::type_error("a pipeline takes a path (str, os.PathLike) or an array (numpy, or anything np.asarray "
                         "takes); got " + py::str(py::type::of(x).attr("__name__")).cast<std::string>());
  }
  // The common case, mono float32 samples in one block: passed as a view
  // (the session copies it into its own reused buffer), no conversion.
  if (input.kind == InputKind::audio && !axes && a.ndim() == 1 && a.dtype().is(py::dtype::of<float>()) &&
      (a.flags() & py::array::c_style) && sample_rate && *sample_rate > 0 && std::isfinite(*sample_rate)) {
    const int64_t shape[] = {a.shape(0)};
    static const std::string time_axis[] = {"time"};
    const std::map<std::string, double> attrs = {{"sample_rate", *sample_rate}};
    const TensorView v{static_cast<const float*>(a.data()), shape, time_axis, &attrs};
    return run_released(*pool, "<array>", [&](Session& s) { return s.run(v); });
  }
  Tensor in;
  switch (input.kind) {
    case InputKind::audio:
      if (axes) throw py::type_error("axes: audio samples are [time] or [time, channel]");
      in = audio_input(a, sample_rate.value_or(std::nan("")));
      break;
    case InputKind::image:
      if (sample_rate || axes) throw py::type_error("an image takes neither sample_rate nor axes");
      in = image_input(a, input, layout == "chw");
      break;
    case InputKind::tensor:
      in = tensor_input(a, input, axes, sample_rate);
      break;
  }
  return run_released(*pool, "<array>", [&](Session& s) { return s.run(std::move(in)); });
}

void bind_pipeline(py::module_& m) {
  using namespace pybind11::literals;
  py::class_<PyPipeline, std::shared_ptr<PyPipeline>>(m, "Pipeline", R"(A loaded featpipe pipeline.

Pipeline(path) loads a YAML pipeline file: plugins load, every step and the
chain of shapes is checked, and a mistake raises PipelineError with the
file, line and column, before any input is touched. Calling the pipeline
processes one input and returns its features as a float32 numpy array. A
Pipeline may be called from several threads at once.)")
      .def(py::init([](const py::object& path, std::vector<std::string> plugins, std::vector<std::string> allow_plugins) {
             return PyPipeline::load(fspath(path), std::move(plugins), std::move(allow_plugins));
           }),
           "path"_a, py::kw_only(), "plugins"_a = std::vector<std::string>{},
           "allow_plugins"_a = std::vector<std::string>{},
           R"(Loads the pipeline file at `path`.

plugins: extra plugin files (.so) to load.
allow_plugins: folders the pipeline's own `plugins:` may load from, besides
the pipeline's folder and the built-in plugins (loading a plugin runs its code).)")
      .def_static(
          "from_yaml",
          [](std::string text, std::string name, std::optional<std::string> base_dir, std::vector<std::string> plugins,
             std::vector<std::string> allow_plugins) {
            Origin o;
            o.text = std::move(text);
            o.source_name = std::move(name);
            o.base_dir = base_dir ? *base_dir : std::filesystem::current_path().string();
            o.plugins = std::move(plugins);
            o.allowed_plugin_dirs = std::move(allow_plugins);
            return PyPipeline::parse(std::move(o));
          },
          "text"_a, py::kw_only(), "name"_a = "<string>", "base_dir"_a = py::none(),
          "plugins"_a = std::vector<std::string>{}, "allow_plugins"_a = std::vector<std::string>{},
          R"(A pipeline from YAML text. `name` stands for the file in messages;
relative paths in it (models, plugins) resolve against `base_dir`
(default: the current folder).)")
      .def("__call__", &PyPipeline::call, "input"_a, py::kw_only(), "sample_rate"_a = py::none(),
           "axes"_a = py::none(), "layout"_a = "hwc",
           R"(Features of one input, a float32 array shaped as `output_shape`.

input: a path (str or os.PathLike) to a file the first step reads, or an
  array: audio samples [time] or [time, channel] (int16, int32, float32,
  float64) with `sample_rate`; an image [height, width, channel] or
  [height, width] (uint8, uint16, float; RGB as PIL gives, `layout='chw'`
  for [channel, height, width]); or a tensor, its axes named by `axes`.
  An array gives the same bits as the file it was read from.
Raises InputError (the input, the step and stage at fault, the message).)")
      .def(
          "map",
          [](std::shared_ptr<PyPipeline> self, const py::iterable& inputs, int jobs, int prefetch) {
            std::vector<std::string> paths;
            for (const py::handle& x : inputs) paths.push_back(fspath(py::reinterpret_borrow<py::object>(x)));
            return make_map(std::move(self), std::move(paths), jobs, prefetch);
          },
          "inputs"_a, py::kw_only(), "jobs"_a = 1, "prefetch"_a = 0,
          R"(Processes files on `jobs` C++ threads (the GIL released) and yields an
Item (path, features, error) per input, in input order. A file that fails
is an item whose `error` is an InputError, not a raised exception.
prefetch: results computed ahead of the consumer (default 4 per job).)")
      .def(
          "stream",
          [](std::shared_ptr<PyPipeline> self, double sample_rate, int channels) {
            return make_stream(std::move(self), sample_rate, channels);
          },
          "sample_rate"_a = 16000.0, "channels"_a = 1,
          R"(A live stream: push() buffers of samples of any size, pull() the
feature frames completed so far, flush() at the end. The frames equal
pipe(whole signal) whatever the buffer sizes.)")
      .def_property_readonly("name", [](const PyPipeline& p) { return p.pipe->name(); }, "the pipeline's `name`")
      .def_property_readonly("file", [](const PyPipeline& p) { return p.pipe->file(); },
                             "the pipeline file (from_yaml: its `name`)")
      .def_property_readonly(
          "axes",
          [](const PyPipeline& p) { return py::tuple(py::cast(p.pipe->steps().back().output.axes)); },
          "names of the output's axes, e.g. ('frame', 'mel')")
      .def_property_readonly(
          "output_shape",
          [](const PyPipeline& p) {
            py::list out;
            for (int64_t d : p.pipe->steps().back().output.shape) out.append(d >= 0 ? py::object(py::int_(d)) : py::none());
            return py::tuple(out);
          },
          "sizes of the output's axes; None where it depends on the input (frames, image size)")
      .def_property_readonly("latency_samples", [](const PyPipeline& p) { return none_if_nan(p.pipe->latency_samples()); },
                             "look-ahead in a stream, in samples at the first step's output rate (None: known "
                             "only once the input's sample rate is)")
      .def_property_readonly("frame_rate", [](const PyPipeline& p) { return none_if_nan(cli::frame_rate(*p.pipe)); },
                             "output frames per second (None: no time axis, or it depends on the input)")
      .def_property_readonly(
          "streamable",
          [](const PyPipeline& p) {
            return !p.pipe->batch_only_step() && p.pipe->steps().front().output.stream_axis >= 0;
          },
          "whether stream() works: the first step gives a time axis and no step needs the whole input")
      .def_property_readonly("streams_files", [](const PyPipeline& p) { return p.pipe->streams_files(); },
                             "whether a file is read in bounded chunks (memory does not grow with its length); "
                             "else it is decoded whole first")
      .def_property_readonly("reads_files", [](const PyPipeline& p) { return p.pipe->has_source(); },
                             "whether the first step reads files")
      .def_property_readonly("extensions", [](const PyPipeline& p) { return p.pipe->extensions(); },
                             "file extensions the first step reads, lowercase")
      .def_property_readonly("warnings", [](const PyPipeline& p) { return p.pipe->warnings(); },
                             "what loads but deserves a look, as `featpipe validate` warns")
      .def_property_readonly("steps",
                             [](const PyPipeline& p) -> py::object { return from_json(cli::validate_json(*p.pipe))["steps"]; },
                             "each step as a dict: stage, resolved parameters, output axes and shape, streaming")
      .def_property_readonly("provenance", [](const PyPipeline& p) { return from_json(p.pipe->provenance_json()); },
                             "what `featpipe run` writes to provenance.json: version, pipeline hash, plugins")
      .def("describe", [](const PyPipeline& p) { return cli::validate_text(*p.pipe); },
           "the chain of steps, shapes and parameters, as `featpipe validate` prints it")
      .def("__repr__",
           [](const PyPipeline& p) {
             return "<featpipe.Pipeline '" + p.pipe->name() + "' " + p.pipe->steps().back().output.axes_text() +
                    " from " + p.pipe->file() + ">";
           })
      .def(py::pickle(
          [](const PyPipeline& p) {
            const Origin& o = p.origin;
            return py::make_tuple(py::bytes(o.text), o.source_name, o.base_dir, o.plugins, o.allowed_plugin_dirs);
          },
          [](const py::tuple& t) {
            if (t.size() != 5) throw py::value_error("not a pickled featpipe.Pipeline");
            Origin o;
            o.text = t[0].cast<std::string>();
            o.source_name = t[1].cast<std::string>();
            o.base_dir = t[2].cast<std::string>();
            o.plugins = t[3].cast<std::vector<std::string>>();
            o.allowed_plugin_dirs = t[4].cast<std::vector<std::string>>();
            return PyPipeline::parse(std::move(o));
          }));
}

}  // namespace featpipe::python
