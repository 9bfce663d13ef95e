// NumPy .npy reading and writing, header-only so the engine and plugins
// (tensor.load) share one implementation.
//
// Writing: format 1.0, little-endian float32 ('<f4'), C order.
// Reading: format 1.0/2.0/3.0; bool, int8..int64, uint8..uint64,
// float32 and float64; either byte order; C or Fortran order. The result
// is converted to float32 in C order.
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace featpipe::npy {

struct Array {
  std::vector<int64_t> shape;
  std::vector<float> data;
};

// Header text for a float32 C-order array, padded so data starts at a
// multiple of 64 bytes (as numpy does).
inline std::string header(const std::vector<int64_t>& shape) {
  std::string dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (";
  for (size_t k = 0; k < shape.size(); ++k) {
    dict += std::to_string(shape[k]);
    if (shape.size() == 1 || k + 1 < shape.size()) dict += ",";
    if (k + 1 < shape.size()) dict += " ";
  }
  dict += "), }";
  size_t total = 10 + dict.size() + 1;
  size_t pad = (64 - total % 64) % 64;
  dict.append(pad, ' ');
  dict += '\n';
  std::string out("\x93NUMPY\x01\x00", 8);
  uint16_t len = static_cast<uint16_t>(dict.size());
  out += static_cast<char>(len & 0xff);
  out += static_cast<char>(len >> 8);
  return out + dict;
}

// Writes to an open stream; throws std::runtime_error on I/O failure.
inline void write(std::ostream& os, const std::vector<int64_t>& shape, const float* data) {
  static_assert(std::endian::native == std::endian::little, "npy writer assumes little-endian");
  std::string h = header(shape);
  size_t n = 1;
  for (int64_t d : shape) n *= static_cast<size_t>(d);
  os.write(h.data(), static_cast<std::streamsize>(h.size()));
  os.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(n * sizeof(float)));
  if (!os) throw std::runtime_error("write failed");
}

namespace detail {

inline std::string dict_value(const std::string& dict, const std::string& key) {
  size_t k = dict.find("'" + key + "'");
  if (k == std::string::npos) throw std::runtime_error("npy header has no '" + key + "'");
  size_t colon = dict.find(':', k);
  if (colon == std::string::npos) throw std::runtime_error("npy header is malformed");
  size_t v = dict.find_first_not_of(' ', colon + 1);
  if (v == std::string::npos) throw std::runtime_error("npy header is malformed");
  size_t end;
  if (dict[v] == '(') end = dict.find(')', v) + 1;
  else if (dict[v] == '\'') end = dict.find('\'', v + 1) + 1;
  else end = dict.find_first_of(",}", v);
  if (end == std::string::npos || end == 0) throw std::runtime_error("npy header is malformed");
  return dict.substr(v, end - v);
}

template <class T>
void convert(const char* src, size_t n, bool swap, float* dst) {
  for (size_t k = 0; k < n; ++k) {
    char b[sizeof(T)];
    std::memcpy(b, src + k * sizeof(T), sizeof(T));
    if (swap)
      for (size_t i = 0; i < sizeof(T) / 2; ++i) std::swap(b[i], b[sizeof(T) - 1 - i]);
    T v;
    std::memcpy(&v, b, sizeof(T));
    dst[k] = static_cast<float>(v);
  }
}

}  // namespace detail

// Reads a whole .npy file. Throws std::runtime_error saying what is wrong
// (not a .npy file, truncated, unsupported dtype, ...).
inline Array read(const std::string& path) {
  std::ifstream is(path, std::ios::binary);
  if (!is) throw std::runtime_error("cannot open file");
  char magic[8];
  if (!is.read(magic, 8)) throw std::runtime_error("file too short to be a .npy array");
  if (std::memcmp(magic, "\x93NUMPY", 6) != 0) throw std::runtime_error("not a .npy file (bad magic)");
  const int major = static_cast<unsigned char>(magic[6]);
  uint32_t hlen = 0;
  if (major == 1) {
    unsigned char b[2];
    if (!is.read(reinterpret_cast<char*>(b), 2)) throw std::runtime_error("truncated .npy header");
    hlen = b[0] | (b[1] << 8);
  } else if (major == 2 || major == 3) {
    unsigned char b[4];
    if (!is.read(reinterpret_cast<char*>(b), 4)) throw std::runtime_error("truncated .npy header");
    hlen = b[0] | (b[1] << 8) | (b[2] << 16) | (static_cast<uint32_t>(b[3]) << 24);
  } else {
    throw std::runtime_error("unsupported .npy format version " + std::to_string(major));
  }
  if (hlen > (1u << 20)) throw std::runtime_error("implausible .npy header length");
  std::string dict(hlen, '\0');
  if (!is.read(dict.data(), hlen)) throw std::runtime_error("truncated .npy header");

  std::string descr = detail::dict_value(dict, "descr");
  std::string fortran = detail::dict_value(dict, "fortran_order");
  std::string shape_text = detail::dict_value(dict, "shape");
  if (descr.size() < 5 || descr.front() != '\'') throw std::runtime_error("unsupported dtype " + descr);
  const char order = descr[1];
  const char kind = descr[2];
  const int size = std::atoi(descr.substr(3, descr.size() - 4).c_str());
  const bool swap = (order == '>') ;  // '<' and '|' are native on little-endian

  Array a;
  size_t n = 1;
  for (size_t p = 1; p < shape_text.size();) {
    size_t q = shape_text.find_first_of(",)", p);
    std::string item = shape_text.substr(p, q - p);
    const size_t b = item.find_first_not_of(' ');
    if (b != std::string::npos) {
      const size_t e = item.find_last_not_of(' ');
      item = item.substr(b, e - b + 1);
      if (item.empty() || item.size() > 18 || item.find_first_not_of("0123456789") != std::string::npos)
        throw std::runtime_error("malformed .npy shape " + shape_text);
      const int64_t d = std::stoll(item);
      // Guard the product against wrapping around.
      if (d > 0 && n > (size_t{1} << 40) / static_cast<size_t>(d)) throw std::runtime_error("array too large: shape " + shape_text);
      a.shape.push_back(d);
      n *= static_cast<size_t>(d);
    }
    if (q == std::string::npos || shape_text[q] == ')') break;
    p = q + 1;
  }

  // Compare what the header promises with what the file holds before
  // allocating anything of that size.
  const size_t bytes = n * static_cast<size_t>(size > 0 ? size : 1);
  const std::streamoff data_at = is.tellg();
  is.seekg(0, std::ios::end);
  const std::streamoff file_size = is.tellg();
  is.seekg(data_at);
  if (file_size < data_at || static_cast<size_t>(file_size - data_at) < bytes)
    throw std::runtime_error("truncated data: expected " + std::to_string(bytes) + " bytes for shape " + shape_text +
                             ", the file holds " + std::to_string(file_size - data_at));
  std::vector<char> raw(bytes);
  if (bytes && !is.read(raw.data(), static_cast<std::streamsize>(bytes)))
    throw std::runtime_error("truncated data: expected " + std::to_string(bytes) + " bytes for shape " + shape_text);

  a.data.resize(n);
  float* dst = a.data.data();
  const char* src = raw.data();
  if (kind == 'f' && size == 4) detail::convert<float>(src, n, swap, dst);
  else if (kind == 'f' && size == 8) detail::convert<double>(src, n, swap, dst);
  else if (kind == 'i' && size == 1) detail::convert<int8_t>(src, n, false, dst);
  else if (kind == 'i' && size == 2) detail::convert<int16_t>(src, n, swap, dst);
  else if (kind == 'i' && size == 4) detail::convert<int32_t>(src, n, swap, dst);
  else if (kind == 'i' && size == 8) detail::convert<int64_t>(src, n, swap, dst);
  else if (kind == 'u' && size == 1) detail::convert<uint8_t>(src, n, false, dst);
  else if (kind == 'u' && size == 2) detail::convert<uint16_t>(src, n, swap, dst);
  else if (kind == 'u' && size == 4) detail::convert<uint32_t>(src, n, swap, dst);
  else if (kind == 'u' && size == 8) detail::convert<uint64_t>(src, n, swap, dst);
  else if (kind == 'b' && size == 1) detail::convert<uint8_t>(src, n, false, dst);
  else throw std::runtime_error("unsupported dtype " + descr + " (float32/64, integers and bool are read)");

  if (fortran.rfind("True", 0) == 0 && a.shape.size() > 1) {
    // Fortran order: first index fastest. Transpose into C order.
    const size_t r = a.shape.size();
    std::vector<float> c(n);
    std::vector<size_t> idx(r, 0);
    for (size_t f = 0; f < n; ++f) {
      size_t off = 0;
      for (size_t k = 0; k < r; ++k) off = off * static_cast<size_t>(a.shape[k]) + idx[k];
      c[off] = a.data[f];
      for (size_t k = 0; k < r; ++k) {  // advance the Fortran index
        if (++idx[k] < static_cast<size_t>(a.shape[k])) break;
        idx[k] = 0;
      }
    }
    a.data.swap(c);
  }
  return a;
}

}  // namespace featpipe::npy
