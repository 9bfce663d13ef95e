// Shared helpers for featpipe's tests: temp folders, running the CLI,
// reading .npy files, optional Python references.
#pragma once

#include <featpipe/featpipe.hpp>
#include <featpipe/npy.hpp>

#include <filesystem>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace featpipe::test {

// Source and build trees (from CMake).
fs::path source_dir();
fs::path binary_dir();

// A fresh folder under the system temp dir, removed when destroyed.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const fs::path& path() const { return path_; }
  fs::path operator/(const std::string& rel) const { return path_ / rel; }

 private:
  fs::path path_;
};

struct CmdResult {
  int exit_code = -1;
  std::string out;  // stdout
  std::string err;  // stderr
};

// Runs a shell command line, capturing stdout and stderr.
CmdResult run_shell(const std::string& cmd);
// Runs the featpipe CLI with the given arguments (each shell-quoted).
CmdResult run_cli(const std::vector<std::string>& args);
std::string quote(const std::string& s);

void write_text(const fs::path& p, const std::string& text);
std::string read_text(const fs::path& p);

// Writes a float32 array as .npy.
void write_npy(const fs::path& p, const std::vector<int64_t>& shape, const std::vector<float>& data);

// True when /usr/bin/python3 can import every module listed ("numpy torch").
bool python_has(const std::string& modules);
std::string python();

// Max |a - b| over equal-sized arrays (fails the test on a size mismatch).
double max_abs_diff(const std::vector<float>& a, const std::vector<float>& b);
double max_abs(const std::vector<float>& a);

}  // namespace featpipe::test
