#include "image_support.hpp"

#include <gtest/gtest.h>

#include <sstream>

namespace featpipe::test {

fs::path image_data() { return source_dir() / "tests/image/data"; }

static std::shared_ptr<const Pipeline> parse_steps(const std::string& steps, const LoadOptions& opts = {}) {
  return Pipeline::parse("featpipe: 1\nname: test\nstages:\n" + steps, "test.yaml", source_dir().string(), opts);
}

Tensor run_steps_on_file(const std::string& steps, const fs::path& file) {
  return parse_steps(steps)->session()->run_file(file.string());
}

Tensor run_steps_on_tensor(const std::string& steps, const std::vector<std::string>& axes,
                           const std::vector<int64_t>& shape, const std::vector<float>& data) {
  const TensorSpec spec{axes, shape};
  LoadOptions opts;
  opts.input = spec;
  Tensor t;
  t.axes = axes;
  t.shape = shape;
  t.data = data;
  return parse_steps(steps, opts)->session()->run(std::move(t));
}

std::vector<std::vector<std::string>> read_table(const fs::path& p) {
  std::vector<std::vector<std::string>> rows;
  std::istringstream in(read_text(p));
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream ls(line);
    std::vector<std::string> f;
    std::string w;
    while (ls >> w) f.push_back(w);
    if (!f.empty()) rows.push_back(f);
  }
  return rows;
}

double rel_diff(const std::vector<float>& a, const std::vector<float>& b) {
  return max_abs_diff(a, b) / std::max(max_abs(b), 1e-30);
}

}  // namespace featpipe::test
