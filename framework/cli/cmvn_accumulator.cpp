// Global CMVN statistics (see cmvn_accumulator.hpp).
#include "cmvn_accumulator.hpp"

#include <featpipe/featpipe.hpp>
#include <featpipe/kaldi_io.hpp>
#include <featpipe/runner.hpp>

#include <nlohmann/json.hpp>

#include <charconv>
#include <cmath>
#include <sstream>

namespace featpipe::cli {

void CmvnAccumulator::add(const float* data, int64_t rows, int64_t cols, const std::string& name) {
  if (rows == 0) return;  // no frames; an empty ark matrix is 0 x 0 whatever its dim
  if (dim_ < 0) {
    dim_ = cols;
    first_ = name;
    sum_.assign(static_cast<size_t>(cols), 0.0);
    sumsq_.assign(static_cast<size_t>(cols), 0.0);
  } else if (cols != dim_) {
    throw Error(printable_name(name) + ": " + std::to_string(cols) + " dims, but " + printable_name(first_) + " has " +
                std::to_string(dim_) + ": statistics need one feature dimension");
  }
  // Checked before adding: one NaN would make every later mean NaN.
  const size_t n = static_cast<size_t>(rows) * static_cast<size_t>(cols);
  for (size_t k = 0; k < n; ++k)
    if (!std::isfinite(data[k]))
      throw Error(printable_name(name) + ": frame " + std::to_string(k / static_cast<size_t>(cols)) + ", dim " +
                  std::to_string(k % static_cast<size_t>(cols)) + " is " + (std::isnan(data[k]) ? "NaN" : "infinite"));
  double* s = sum_.data();
  double* q = sumsq_.data();
  for (int64_t t = 0; t < rows; ++t) {
    const float* x = data + t * cols;
    for (int64_t d = 0; d < cols; ++d) {
      const double v = x[d];
      s[d] += v;
      q[d] += v * v;
    }
  }
  frames_ += rows;
}

namespace {

std::string number(double v) {
  char buf[32];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);  // shortest text that reads back exactly
  return std::string(buf, r.ptr);
}

std::vector<double> kaldi_matrix(const CmvnAccumulator& acc) {
  const size_t dim = static_cast<size_t>(acc.dim()), w = dim + 1;
  std::vector<double> m(2 * w, 0.0);
  for (size_t d = 0; d < dim; ++d) {
    m[d] = acc.sum()[d];
    m[w + d] = acc.sum_squares()[d];
  }
  m[dim] = static_cast<double>(acc.frames());
  return m;
}

}  // namespace

std::string cmvn_stats_bytes(const CmvnAccumulator& acc, CmvnFormat format) {
  const int64_t w = acc.dim() + 1;
  switch (format) {
    case CmvnFormat::kaldi: {
      std::ostringstream os;
      kaldi::write_matrix(os, kaldi_matrix(acc).data(), 2, w);
      return os.str();
    }
    case CmvnFormat::kaldi_text: {
      // MatrixBase::Write in text mode; Kaldi prints 7 digits, these
      // read back exactly.
      const std::vector<double> m = kaldi_matrix(acc);
      std::string t = " [";
      for (int64_t r = 0; r < 2; ++r) {
        t += "\n  ";
        for (int64_t c = 0; c < w; ++c) t += number(m[static_cast<size_t>(r * w + c)]) + " ";
      }
      return t + "]\n";
    }
    case CmvnFormat::wenet: {
      nlohmann::ordered_json j;
      j["mean_stat"] = acc.sum();
      j["var_stat"] = acc.sum_squares();
      j["frame_num"] = acc.frames();
      return j.dump() + "\n";
    }
  }
  return {};
}

}  // namespace featpipe::cli
