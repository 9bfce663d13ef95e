// Pipeline.map: files through C++ worker threads, results in input order.
#pragma once

#include "common.hpp"

#include <memory>
#include <vector>

namespace featpipe::python {

struct PyPipeline;

py::object make_map(std::shared_ptr<PyPipeline> pipe, std::vector<std::string> paths, int jobs, int prefetch);
void bind_map(py::module_& m);

}  // namespace featpipe::python
