// Shared by the binding's sources: the pybind11 includes, the engine, and
// how a C++ error becomes a featpipe Python exception.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <featpipe/featpipe.hpp>

#include <string>

namespace featpipe::python {

namespace py = pybind11;

// featpipe.PipelineError for a load error's text; `file` is the pipeline
// file (or from_yaml's name), so the text's "file:line:col: " splits off
// even when the path holds colons.
[[noreturn]] void raise_pipeline_error(const std::string& text, const std::string& file);
// featpipe.InputError instance for a failure on `input` (a path or
// "<array>"), not raised: pipe.map hands it out in an item.
py::object input_error(const std::string& text, const std::string& input);
[[noreturn]] void raise_input_error(const std::string& text, const std::string& input);

// A result the engine made, as a numpy array owning the same buffer.
py::array to_numpy(Tensor&& t);

// A JSON text as Python objects.
py::object from_json(const std::string& text);

}  // namespace featpipe::python
