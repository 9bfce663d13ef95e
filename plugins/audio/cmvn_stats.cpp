// Reading global CMVN statistics (see cmvn_stats.hpp).
#include "cmvn_stats.hpp"

#include <featpipe/kaldi_io.hpp>
#include <featpipe/sdk.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace featpipe::audio {
namespace {

using Matrix = std::vector<std::vector<double>>;

[[noreturn]] void fail(const std::string& name, const std::string& what) {
  throw sdk::Error(sdk::cat("stats file '", name, "': ", what), "stats");
}

// A Kaldi binary matrix at `at` ("\0B"), its header read as the archive
// reader reads it (featpipe/kaldi_io.hpp); the values kept in double.
Matrix binary_matrix(const std::string& b, size_t at, const std::string& name) {
  std::istringstream is(b.substr(at));
  int64_t rows = 0, cols = 0;
  bool dbl = false;
  try {
    kaldi::read_matrix_header(is, rows, cols, dbl);
  } catch (const std::exception& e) {
    fail(name, e.what());
  }
  if (rows > 16 || cols > (1 << 24)) fail(name, "implausible matrix size");
  Matrix m(static_cast<size_t>(rows), std::vector<double>(static_cast<size_t>(cols)));
  for (auto& row : m)
    for (double& v : row) {
      float f = 0.0f;
      if (dbl ? !is.read(reinterpret_cast<char*>(&v), 8) : !is.read(reinterpret_cast<char*>(&f), 4))
        fail(name, "the binary matrix is truncated");
      if (!dbl) v = f;
    }
  const std::string rest((std::istreambuf_iterator<char>(is)), std::istreambuf_iterator<char>());
  if (rest.find_first_not_of(" \n\r\t") != std::string::npos)
    fail(name, "more than one matrix (an archive of per-speaker statistics?): featpipe applies one global set");
  return m;
}

// A Kaldi text matrix "[ r0 \n r1 ]" starting at `at` ('[').
Matrix text_matrix(const std::string& b, size_t at, const std::string& name) {
  const size_t close = b.find(']', at);
  if (close == std::string::npos) fail(name, "the text matrix has no closing ']'");
  if (b.find_first_not_of(" \n\r\t", close + 1) != std::string::npos)
    fail(name, "more than one matrix (an archive of per-speaker statistics?): featpipe applies one global set");
  Matrix m;
  std::istringstream lines(b.substr(at + 1, close - at - 1));
  for (std::string line; std::getline(lines, line);) {
    std::istringstream words(line);
    std::vector<double> row;
    for (std::string w; words >> w;) {
      char* end = nullptr;
      row.push_back(std::strtod(w.c_str(), &end));
      if (end == w.c_str() || *end) fail(name, "'" + w + "' is not a number");
    }
    if (!row.empty()) m.push_back(std::move(row));
  }
  return m;
}

CmvnStats from_kaldi(const Matrix& m, const std::string& name) {
  if (m.size() != 2 || m[0].size() < 2 || m[1].size() != m[0].size())
    fail(name, sdk::cat("Kaldi CMVN statistics are a 2 × (dim + 1) matrix, got ", m.size(), " × ",
                        m.empty() ? 0 : m[0].size()));
  CmvnStats s;
  const size_t dim = m[0].size() - 1;
  s.count = m[0][dim];
  s.mean.assign(m[0].begin(), m[0].begin() + static_cast<std::ptrdiff_t>(dim));
  s.var.assign(m[1].begin(), m[1].begin() + static_cast<std::ptrdiff_t>(dim));
  return s;
}

CmvnStats from_wenet(const std::string& text, const std::string& name) {
  const nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) fail(name, "not valid JSON");
  for (const char* key : {"mean_stat", "var_stat", "frame_num"})
    if (!j.contains(key)) fail(name, sdk::cat("WeNet's global_cmvn JSON needs \"", key, "\""));
  CmvnStats s;
  try {
    s.mean = j["mean_stat"].get<std::vector<double>>();
    s.var = j["var_stat"].get<std::vector<double>>();
    s.count = j["frame_num"].get<double>();
  } catch (const std::exception&) {
    fail(name, "mean_stat and var_stat must be lists of numbers, frame_num a number");
  }
  if (s.mean.size() != s.var.size() || s.mean.empty())
    fail(name, sdk::cat("mean_stat has ", s.mean.size(), " values and var_stat ", s.var.size()));
  return s;
}

}  // namespace

CmvnStats read_cmvn_stats(const std::string& path) {
  const std::string name = std::filesystem::path(path).filename().string();
  std::ifstream is(path, std::ios::binary);
  if (!is) fail(name, "cannot be read");
  const std::string b((std::istreambuf_iterator<char>(is)), std::istreambuf_iterator<char>());
  const size_t first = b.find_first_not_of(" \n\r\t");
  if (first == std::string::npos) fail(name, "is empty");
  CmvnStats s;
  if (b[first] == '{') {
    s = from_wenet(b, name);
    s.format = "wenet json";
  } else {
    // An archive entry starts with its key: "key \0B..." or "key [ ...".
    size_t at = first;
    if (b[at] != '[' && b[at] != '\0') {
      const size_t space = b.find(' ', at);
      if (space == std::string::npos) fail(name, "neither a Kaldi matrix nor WeNet JSON");
      at = space + 1;
    }
    while (at < b.size() && b[at] == ' ') ++at;
    if (b.compare(at, 2, std::string("\0B", 2)) == 0) {
      s = from_kaldi(binary_matrix(b, at, name), name);
      s.format = "kaldi binary";
    } else if (at < b.size() && b[at] == '[') {
      s = from_kaldi(text_matrix(b, at, name), name);
      s.format = "kaldi text";
    } else {
      fail(name, "neither a Kaldi matrix (binary \"\\0B\" or text \"[\") nor WeNet JSON");
    }
  }
  // Kaldi's ApplyCmvn: "Insufficient stats for cepstral mean and variance
  // normalization: count = ..." below one frame.
  if (!(s.count >= 1.0)) fail(name, sdk::cat("the frame count is ", s.count, " (at least 1 is needed)"));
  for (size_t d = 0; d < s.mean.size(); ++d) {
    s.mean[d] /= s.count;
    s.var[d] = std::max(s.var[d] / s.count - s.mean[d] * s.mean[d], 1e-20);
    if (!std::isfinite(s.mean[d]) || !std::isfinite(s.var[d])) fail(name, sdk::cat("feature ", d, " is not finite"));
  }
  return s;
}

}  // namespace featpipe::audio
