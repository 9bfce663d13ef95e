#include "test_support.hpp"

#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <random>
#include <sstream>

namespace featpipe::test {

fs::path source_dir() { return FEATPIPE_SOURCE_DIR; }
fs::path binary_dir() { return FEATPIPE_BINARY_DIR; }

TempDir::TempDir() {
  std::random_device rd;
  path_ = fs::temp_directory_path() / ("featpipe-test-" + std::to_string(getpid()) + "-" + std::to_string(rd()));
  fs::create_directories(path_);
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::permissions(path_, fs::perms::owner_all, fs::perm_options::add, ec);
  fs::remove_all(path_, ec);
}

std::string quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') out += "'\\''";
    else out += c;
  }
  return out + "'";
}

CmdResult run_shell(const std::string& cmd) {
  TempDir tmp;
  const fs::path out = tmp / "stdout", err = tmp / "stderr";
  std::string full = "(" + cmd + ") >" + quote(out.string()) + " 2>" + quote(err.string()) + " </dev/null";
  int status = std::system(full.c_str());
  CmdResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = read_text(out);
  r.err = read_text(err);
  return r;
}

CmdResult run_cli(const std::vector<std::string>& args) {
  std::string cmd = quote(FEATPIPE_CLI);
  for (const auto& a : args) cmd += " " + quote(a);
  return run_shell(cmd);
}

void write_text(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  std::ofstream os(p, std::ios::binary);
  os << text;
}

std::string read_text(const fs::path& p) {
  std::ifstream is(p, std::ios::binary);
  std::ostringstream ss;
  ss << is.rdbuf();
  return ss.str();
}

void write_npy(const fs::path& p, const std::vector<int64_t>& shape, const std::vector<float>& data) {
  fs::create_directories(p.parent_path());
  std::ofstream os(p, std::ios::binary);
  npy::write(os, shape, data.data());
}

std::string python() { return FEATPIPE_PYTHON; }

bool python_has(const std::string& modules) {
  if (python().empty()) return false;
  std::string code = "import ";  // "numpy torch" -> "import numpy, torch"
  for (char c : modules) code += c == ' ' ? std::string(", ") : std::string(1, c);
  return run_shell(quote(python()) + " -c " + quote(code)).exit_code == 0;
}

double max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
  EXPECT_EQ(a.size(), b.size());
  double m = 0;
  for (size_t k = 0; k < std::min(a.size(), b.size()); ++k) {
    double d = std::fabs(double(a[k]) - double(b[k]));
    if (std::isnan(d)) return INFINITY;
    m = std::max(m, d);
  }
  return m;
}

double max_abs(const std::vector<float>& a) {
  double m = 0;
  for (float v : a) m = std::max(m, std::fabs(double(v)));
  return m;
}

}  // namespace featpipe::test
