// C++ errors to the exceptions of featpipe/_types.py, which parse the text
// into fields (file, line, column / input, step, stage).
#include "common.hpp"

namespace featpipe::python {

namespace {

py::object error_class(const char* name) { return py::module_::import("featpipe._types").attr(name); }

[[noreturn]] void raise(const py::object& exc) {
  PyErr_SetObject(reinterpret_cast<PyObject*>(Py_TYPE(exc.ptr())), exc.ptr());
  throw py::error_already_set();
}

}  // namespace

void raise_pipeline_error(const std::string& text, const std::string& file) {
  raise(error_class("PipelineError")(text, file));
}

py::object input_error(const std::string& text, const std::string& input) {
  return error_class("InputError")(text, input);
}

void raise_input_error(const std::string& text, const std::string& input) { raise(input_error(text, input)); }

py::array to_numpy(Tensor&& t) {
  if (t.numel() == 0) return py::array_t<float>(std::vector<py::ssize_t>(t.shape.begin(), t.shape.end()));
  if (t.data.size() < static_cast<size_t>(t.numel())) throw Error("internal: a result holds fewer values than its shape");
  auto* owner = new std::vector<float>(std::move(t.data));
  py::capsule base(owner, [](void* p) { delete static_cast<std::vector<float>*>(p); });
  std::vector<py::ssize_t> shape(t.shape.begin(), t.shape.end());
  return py::array_t<float>(shape, owner->data(), base);
}

py::object from_json(const std::string& text) { return py::module_::import("json").attr("loads")(text); }

}  // namespace featpipe::python
