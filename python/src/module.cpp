// featpipe._featpipe: the engine as a Python extension. The package
// (python/featpipe/__init__.py) re-exports it with the exception types.
#include "common.hpp"

#include <chrono>
#include <map>
#include "map.hpp"
#include "pipeline.hpp"
#include "stage_reference.hpp"
#include "stream.hpp"

namespace featpipe::python {
namespace {

py::object stages_as_dicts(const std::vector<std::string>& plugins) {
  std::vector<StageDoc> docs;
  {
    py::gil_scoped_release nogil;
    docs = available_stages(plugins);
  }
  return from_json(cli::stages_json(docs))["stages"];
}

}  // namespace

void bind_module(py::module_& m) {
  using namespace pybind11::literals;
  m.doc() = "featpipe's engine (use the featpipe package)";
  m.attr("__version__") = FEATPIPE_VERSION;
  bind_pipeline(m);
  bind_map(m);
  bind_stream(m);
  m.def("stages", &stages_as_dicts, py::kw_only(), "plugins"_a = std::vector<std::string>{},
        "every stage the plugins provide, as `featpipe stages --json` lists them: name, doc, plugin, parameters");
  m.def(
      "stage",
      [](const std::string& name, std::vector<std::string> plugins) -> py::object {
        py::list all = stages_as_dicts(plugins);
        std::vector<std::string> names;
        for (const py::handle& s : all) {
          if (s["name"].cast<std::string>() == name) return py::reinterpret_borrow<py::object>(s);
          names.push_back(s["name"].cast<std::string>());
        }
        std::string msg = "no stage '" + name + "'";
        const auto close = closest_names(name, names);
        if (!close.empty()) msg += " (did you mean '" + close.front() + "'?)";
        throw py::key_error(msg);
      },
      "name"_a, py::kw_only(), "plugins"_a = std::vector<std::string>{},
      "one stage's schema as a dict (KeyError, with the closest names, if there is none)");
  // For bench/python: the same work as pipe(samples) through the C++ API
  // (one session, Session::run on a view), `n` times; seconds in all.
  m.def(
      "_cpp_loop_seconds",
      [](const PyPipeline& p, const py::array_t<float, py::array::c_style | py::array::forcecast>& samples,
         double sample_rate, int n) {
        const int64_t shape[] = {samples.shape(0)};
        const std::string axes[] = {"time"};
        const std::map<std::string, double> attrs = {{"sample_rate", sample_rate}};
        const TensorView v{samples.data(), shape, axes, &attrs};
        py::gil_scoped_release nogil;
        auto session = p.pipe->session();
        session->run(v);  // warm
        const auto t0 = std::chrono::steady_clock::now();
        for (int k = 0; k < n; ++k) session->run(v);
        return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      },
      "pipeline"_a, "samples"_a, "sample_rate"_a, "n"_a);
  m.def("plugin_folder", &builtin_plugin_folder, "the folder the built-in plugins load from");
}

}  // namespace featpipe::python

PYBIND11_MODULE(_featpipe, m) { featpipe::python::bind_module(m); }
