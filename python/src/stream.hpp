// Pipeline.stream: the C++ Stream, pushed numpy buffers.
#pragma once

#include "common.hpp"

#include <memory>

namespace featpipe::python {

struct PyPipeline;

py::object make_stream(std::shared_ptr<PyPipeline> pipe, double sample_rate, int channels);
void bind_stream(py::module_& m);

}  // namespace featpipe::python
