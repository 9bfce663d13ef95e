// Helpers shared by the image and cnn tests.
#pragma once

#include "test_support.hpp"

#include <string>
#include <vector>

namespace featpipe::test {

fs::path image_data();  // tests/image/data

// Runs a pipeline given as YAML steps (the text under `stages:`) on a file.
Tensor run_steps_on_file(const std::string& steps, const fs::path& file);
// Runs YAML steps on an in-memory tensor with the given axes.
Tensor run_steps_on_tensor(const std::string& steps, const std::vector<std::string>& axes,
                           const std::vector<int64_t>& shape, const std::vector<float>& data);

// Whitespace-separated fields of each non-empty line.
std::vector<std::vector<std::string>> read_table(const fs::path& p);

// max|a - b| / max|b|
double rel_diff(const std::vector<float>& a, const std::vector<float>& b);

}  // namespace featpipe::test
