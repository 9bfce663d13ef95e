// Kaldi archives (.ark) and their indexes (.scp): binary float matrices,
// header-only so the engine (run --output-format ark) and plugins
// (tensor.load) share one implementation.
//
// An entry as Kaldi's table writer puts it in an ark (kaldi-table-inl.h,
// kaldi-io.cc InitKaldiOutputStream, kaldi-matrix.cc MatrixBase::Write):
//   KEY ' '  '\0' 'B'  "FM "  '\4' int32 rows  '\4' int32 cols  rows*cols float32
// little-endian, row-major (the '\4' is the byte size WriteBasicType puts
// before each integer). An .scp line is "KEY ARK:OFFSET", OFFSET pointing at
// the '\0'. Kaldi has no 0 x N matrix: an empty one is written 0 x 0.
// Reading takes "FM" and "DM" (float64, converted); text and compressed
// ("CM") matrices are refused.
#pragma once

#include <algorithm>
#include <bit>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <istream>
#include <limits>
#include <ostream>
#include <stdexcept>
#include <string>
#include <vector>

namespace featpipe::kaldi {

static_assert(std::endian::native == std::endian::little, "Kaldi's binary format is written as little-endian here");

struct Matrix {
  int64_t rows = 0, cols = 0;
  std::vector<float> data;  // row-major
};

// The bytes from '\0' 'B' up to the data (15 bytes): "FM " (float32) or,
// with is_double, "DM " (float64, as compute-cmvn-stats writes statistics).
inline std::string matrix_header(int64_t rows, int64_t cols, bool is_double = false) {
  if (rows < 0 || cols < 0 || rows > std::numeric_limits<int32_t>::max() || cols > std::numeric_limits<int32_t>::max())
    throw std::runtime_error("a Kaldi matrix holds at most 2^31-1 rows and columns");
  if (rows == 0 || cols == 0) rows = cols = 0;
  std::string h(is_double ? "\0BDM " : "\0BFM ", 5);
  for (int64_t v : {rows, cols}) {
    const int32_t n = static_cast<int32_t>(v);
    h += '\4';
    h.append(reinterpret_cast<const char*>(&n), 4);
  }
  return h;
}

// One matrix (no key): the header, then the data. Throws on I/O failure.
inline void write_matrix(std::ostream& os, const float* data, int64_t rows, int64_t cols) {
  const std::string h = matrix_header(rows, cols);
  os.write(h.data(), static_cast<std::streamsize>(h.size()));
  if (rows > 0 && cols > 0) os.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(rows * cols * 4));
  if (!os) throw std::runtime_error("cannot write the Kaldi matrix");
}

// The same for float64 data ("DM ").
inline void write_matrix(std::ostream& os, const double* data, int64_t rows, int64_t cols) {
  const std::string h = matrix_header(rows, cols, true);
  os.write(h.data(), static_cast<std::streamsize>(h.size()));
  if (rows > 0 && cols > 0) os.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(rows * cols * 8));
  if (!os) throw std::runtime_error("cannot write the Kaldi matrix");
}

namespace detail {
[[noreturn]] inline void bad(const std::string& what) { throw std::runtime_error("not a Kaldi binary matrix: " + what); }
inline int32_t read_int32(std::istream& is) {
  char size = 0;
  int32_t v = 0;
  if (!is.get(size) || size != 4) bad("expected an int32 (size byte 4)");
  if (!is.read(reinterpret_cast<char*>(&v), 4)) bad("truncated size");
  return v;
}
}  // namespace detail

// Reads the sizes at '\0' 'B' and leaves the stream at the data; `is_double`
// tells "DM" from "FM".
inline void read_matrix_header(std::istream& is, int64_t& rows, int64_t& cols, bool& is_double) {
  char h[5];
  if (!is.read(h, 5)) detail::bad("truncated header");
  if (h[0] != '\0' || h[1] != 'B') detail::bad("no binary marker \\0B (a text matrix?)");
  const std::string token(h + 2, 3);
  if (token == "CM " || token == "CM2" || token == "CM3") detail::bad("a compressed matrix (CM), which featpipe does not read");
  if (token != "FM " && token != "DM ") detail::bad("token is not FM or DM");
  is_double = token[0] == 'D';
  rows = detail::read_int32(is);
  cols = detail::read_int32(is);
  if (rows < 0 || cols < 0) detail::bad("negative size");
  if ((rows == 0) != (cols == 0)) detail::bad("an empty matrix with a non-zero size");
}

// Reads one matrix at '\0' 'B'.
inline Matrix read_matrix(std::istream& is) {
  Matrix m;
  bool dbl = false;
  read_matrix_header(is, m.rows, m.cols, dbl);
  const size_t n = static_cast<size_t>(m.rows) * static_cast<size_t>(m.cols);
  // Read in pieces: memory grows with the data that is there, never to
  // what a damaged header merely claims.
  constexpr size_t kPiece = size_t{1} << 20;
  std::vector<double> d;
  while (m.data.size() < n) {
    const size_t k = std::min(kPiece, n - m.data.size()), at = m.data.size();
    m.data.resize(at + k);
    if (dbl) {
      d.resize(k);
      if (!is.read(reinterpret_cast<char*>(d.data()), static_cast<std::streamsize>(k * 8))) detail::bad("truncated data");
      for (size_t j = 0; j < k; ++j) m.data[at + j] = static_cast<float>(d[j]);
    } else if (!is.read(reinterpret_cast<char*>(m.data.data() + at), static_cast<std::streamsize>(k * 4))) {
      detail::bad("truncated data");
    }
  }
  return m;
}

// The matrix at byte `offset` of the ark file `ark` (an scp's "ARK:OFFSET").
inline Matrix read_at(const std::string& ark, int64_t offset) {
  std::ifstream is(ark, std::ios::binary);
  if (!is) throw std::runtime_error(ark + ": cannot open");
  if (!is.seekg(offset)) throw std::runtime_error(ark + ": cannot seek to " + std::to_string(offset));
  try {
    return read_matrix(is);
  } catch (const std::runtime_error& e) {
    throw std::runtime_error(ark + ":" + std::to_string(offset) + ": " + e.what());
  }
}

// "ARK:OFFSET" split at the last ':' followed only by digits; false if none.
inline bool split_rxfilename(const std::string& rx, std::string& ark, int64_t& offset) {
  const size_t colon = rx.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == rx.size()) return false;
  int64_t v = 0;
  for (size_t k = colon + 1; k < rx.size(); ++k) {
    if (rx[k] < '0' || rx[k] > '9' || v > (std::numeric_limits<int64_t>::max() - 9) / 10) return false;
    v = v * 10 + (rx[k] - '0');
  }
  ark = rx.substr(0, colon);
  offset = v;
  return true;
}

struct ScpEntry {
  std::string key, ark;  // ark as the line names it, resolved against the scp's folder when relative
  int64_t offset = 0;
};

// Every line "KEY ARK:OFFSET" of an scp; throws naming a line of another form.
inline std::vector<ScpEntry> read_scp(const std::string& scp) {
  std::ifstream is(scp);
  if (!is) throw std::runtime_error(scp + ": cannot open");
  std::vector<ScpEntry> out;
  const std::filesystem::path dir = std::filesystem::path(scp).parent_path();
  size_t n = 0;
  for (std::string line; std::getline(is, line);) {
    ++n;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    const size_t b = line.find_first_not_of(" \t");
    const size_t e = line.find_first_of(" \t", b);
    const size_t r = e == std::string::npos ? e : line.find_first_not_of(" \t", e);
    ScpEntry s;
    std::string rx = r == std::string::npos ? "" : line.substr(r, line.find_last_not_of(" \t\r") + 1 - r);
    if (!split_rxfilename(rx, s.ark, s.offset))
      throw std::runtime_error(scp + ":" + std::to_string(n) + ": expected `KEY ARK:OFFSET`");
    s.key = line.substr(b, e - b);
    if (std::filesystem::path(s.ark).is_relative()) s.ark = (dir / s.ark).string();
    out.push_back(std::move(s));
  }
  return out;
}

// Walks an ark entry by entry: next() reads a key and its matrix (or, with
// skip(), only the sizes, seeking past the data).
class ArkReader {
 public:
  explicit ArkReader(std::istream& is) : is_(is) {}
  // False at the end of the archive; throws on a malformed entry.
  bool next(std::string& key, Matrix& m) {
    if (!read_key(key)) return false;
    m = read_matrix(is_);
    return true;
  }
  // The next key and the offset of its matrix, without reading the data.
  bool skip(std::string& key, int64_t& offset, int64_t& rows, int64_t& cols) {
    if (!read_key(key)) return false;
    offset = static_cast<int64_t>(is_.tellg());
    bool dbl = false;
    read_matrix_header(is_, rows, cols, dbl);
    // A seek past the end succeeds: compare with the end instead.
    const int64_t data = static_cast<int64_t>(is_.tellg());
    if (rows > 0 && cols > (std::numeric_limits<int64_t>::max() / 8) / rows) detail::bad("too large");
    const int64_t bytes = rows * cols * (dbl ? 8 : 4);
    if (end_ < 0) {
      is_.seekg(0, std::ios::end);
      end_ = static_cast<int64_t>(is_.tellg());
    }
    if (data < 0 || end_ < 0 || bytes > end_ - data) detail::bad("truncated data");
    if (!is_.seekg(data + bytes)) detail::bad("truncated data");
    return true;
  }

 private:
  bool read_key(std::string& key) {
    key.clear();
    for (char c; is_.get(c);) {
      if (c == ' ') {
        if (key.empty()) detail::bad("an empty key");
        return true;
      }
      key += c;
      if (key.size() > 65536) detail::bad("a key longer than 64 KiB");
    }
    if (!key.empty()) detail::bad("the archive ends inside a key");
    return false;
  }
  std::istream& is_;
  int64_t end_ = -1;  // the stream's size, once skip() needs it
};

}  // namespace featpipe::kaldi
