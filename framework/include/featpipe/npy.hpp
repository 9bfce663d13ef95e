// NumPy .npy reading and writing, header-only so the engine and plugins
// (tensor.load) share one implementation.
//
// Writing: format 1.0, little-endian float32 ('<f4'), C order.
// Reading: format 1.0/2.0/3.0; bool, int8..int64, uint8..uint64,
// float32 and float64; either byte order; C or Fortran order. The result
// is converted to float32 in C order. The header is read as strictly as
// numpy reads it, and the data must fill the file exactly.
#pragma once

#include <algorithm>
#include <bit>
#include <cctype>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <string>
#include <type_traits>
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

[[noreturn]] inline void bad_header(const std::string& what) { throw std::runtime_error("malformed .npy header: " + what); }

// The header is a Python literal dict, which numpy reads with
// ast.literal_eval and then checks. This reads the subset numpy writes and
// accepts — {'descr': str, 'fortran_order': bool, 'shape': tuple of ints},
// each key once and no other, whitespace anywhere between tokens — and
// refuses anything else rather than guessing.
struct Header {
  std::string descr;
  bool fortran = false;
  std::vector<int64_t> shape;
};

class HeaderParser {
 public:
  explicit HeaderParser(const std::string& text) : t_(text) {}

  Header parse() {
    Header h;
    bool has_descr = false, has_fortran = false, has_shape = false;
    expect('{');
    while (!peek('}')) {
      const std::string key = string_literal();
      expect(':');
      if (key == "descr") {
        once(has_descr, key);
        if (peek('[')) throw std::runtime_error("unsupported dtype: structured arrays (a list 'descr') are not read");
        h.descr = string_literal();
      } else if (key == "fortran_order") {
        once(has_fortran, key);
        h.fortran = boolean();
      } else if (key == "shape") {
        once(has_shape, key);
        h.shape = tuple();
      } else {
        bad_header("unknown key '" + key + "' (a .npy header has descr, fortran_order, shape)");
      }
      if (!peek('}')) expect(',');
    }
    expect('}');
    skip_space();
    if (p_ != t_.size()) bad_header("text after the closing '}'");
    if (!has_descr) throw std::runtime_error("npy header has no 'descr'");
    if (!has_fortran) throw std::runtime_error("npy header has no 'fortran_order'");
    if (!has_shape) throw std::runtime_error("npy header has no 'shape'");
    return h;
  }

 private:
  void skip_space() {
    while (p_ < t_.size() && (t_[p_] == ' ' || t_[p_] == '\t' || t_[p_] == '\n' || t_[p_] == '\r')) ++p_;
  }
  bool peek(char c) {
    skip_space();
    return p_ < t_.size() && t_[p_] == c;
  }
  void expect(char c) {
    if (!peek(c)) bad_header(std::string("expected '") + c + "' at offset " + std::to_string(p_));
    ++p_;
  }
  static void once(bool& seen, const std::string& key) {
    if (seen) bad_header("key '" + key + "' given twice");
    seen = true;
  }
  std::string string_literal() {
    skip_space();
    if (p_ >= t_.size() || (t_[p_] != '\'' && t_[p_] != '"')) bad_header("expected a quoted string at offset " + std::to_string(p_));
    const char q = t_[p_++];
    const size_t end = t_.find(q, p_);
    if (end == std::string::npos) bad_header("unterminated string");
    std::string s = t_.substr(p_, end - p_);
    if (s.find_first_of("\\\n") != std::string::npos) bad_header("escapes in strings are not read");
    p_ = end + 1;
    return s;
  }
  bool boolean() {
    skip_space();
    for (const char* w : {"True", "False"}) {
      const size_t n = std::strlen(w);
      if (t_.compare(p_, n, w) != 0 || p_ + n > t_.size()) continue;
      const bool word_ends = p_ + n == t_.size() || (!std::isalnum(static_cast<unsigned char>(t_[p_ + n])) && t_[p_ + n] != '_');
      if (word_ends) {
        p_ += n;
        return w[0] == 'T';
      }
    }
    bad_header("'fortran_order' must be True or False");
  }
  // A tuple of non-negative decimal ints: (), (n,), (a, b), (a, b,).
  std::vector<int64_t> tuple() {
    skip_space();
    start_ = p_;
    std::vector<int64_t> v;
    if (!peek('(')) shape_error("'shape' must be a tuple such as (3,) or (2, 5)");
    ++p_;
    bool comma = false;
    while (!peek(')')) {
      if (v.size() == 64) shape_error("more than 64 dimensions");
      v.push_back(integer());
      comma = peek(',');
      if (comma) ++p_;
      else if (!peek(')')) shape_error("a tuple of integers separated by ','");
    }
    ++p_;
    if (v.size() == 1 && !comma) shape_error("(n) is the integer n, (n,) the tuple");
    return v;
  }
  int64_t integer() {
    skip_space();
    const size_t b = p_;
    while (p_ < t_.size() && t_[p_] >= '0' && t_[p_] <= '9') ++p_;
    const std::string d = t_.substr(b, p_ - b);
    if (d.empty() || (d.size() > 1 && d[0] == '0')) shape_error("dimensions are non-negative integers");
    if (d.size() > 18) throw std::runtime_error("array too large: a dimension of " + d);
    return std::stoll(d);
  }
  [[noreturn]] void shape_error(const std::string& why) {
    size_t e = t_[start_] == '(' ? t_.find(')', start_) : t_.find_first_of(",}", start_);
    e = e == std::string::npos ? t_.size() : e + (t_[e] == ')');
    throw std::runtime_error("malformed .npy shape " + t_.substr(start_, std::min<size_t>(e - start_, 60)) + ": " + why);
  }

  const std::string& t_;
  size_t p_ = 0;
  size_t start_ = 0;  // of the shape value
};

// IEEE binary16 bits to float32: every half value (subnormals, infinities,
// NaN payloads) has an exact float32, so this is exact.
inline float half_to_float(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  uint32_t exp = (h >> 10) & 0x1Fu, man = h & 0x3FFu, bits;
  if (exp == 0x1F) {
    bits = sign | 0x7F800000u | (man << 13);  // inf, NaN
  } else if (exp != 0) {
    bits = sign | ((exp + 112) << 23) | (man << 13);  // normal: rebias 15 -> 127
  } else if (man == 0) {
    bits = sign;  // +-0
  } else {  // subnormal half: normalize into float32's wider exponent
    exp = 113;
    while (!(man & 0x400u)) man <<= 1, --exp;
    bits = sign | (exp << 23) | ((man & 0x3FFu) << 13);
  }
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

struct Half {
  uint16_t bits;
  explicit operator float() const { return half_to_float(bits); }
};

template <class T>
void convert(const char* src, size_t n, bool swap, float* dst) {
  for (size_t k = 0; k < n; ++k) {
    char b[sizeof(T)];
    std::memcpy(b, src + k * sizeof(T), sizeof(T));
    if (swap)
      for (size_t i = 0; i < sizeof(T) / 2; ++i) std::swap(b[i], b[sizeof(T) - 1 - i]);
    if constexpr (std::is_same_v<T, bool>) {
      dst[k] = b[0] ? 1.0f : 0.0f;  // numpy reads any non-zero byte as True
    } else {
      T v;
      std::memcpy(&v, b, sizeof(T));
      dst[k] = static_cast<float>(v);
    }
  }
}

inline std::string shape_text(const std::vector<int64_t>& shape) {
  std::string s = "(";
  for (size_t k = 0; k < shape.size(); ++k) s += (k ? ", " : "") + std::to_string(shape[k]);
  return s + (shape.size() == 1 ? ",)" : ")");
}

}  // namespace detail

// Largest array read: 2^40 elements (the byte count is then far from
// wrapping); real limits come from the file holding the data.
inline constexpr size_t kMaxElements = size_t{1} << 40;

// Reads a whole .npy file. Throws std::runtime_error saying what is wrong
// (not a .npy file, truncated, malformed header, unsupported dtype, data
// longer or shorter than the header says, ...); nothing of the header's
// size is allocated before the file is known to hold it.
// The same from a stream holding exactly one .npy (an .npz member, say).
inline Array read(std::istream& is) {
  is.seekg(0, std::ios::end);
  const std::streamoff file_size = is.tellg();
  is.seekg(0);
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
  const std::streamoff dict_at = is.tellg();
  if (hlen > file_size - dict_at)
    throw std::runtime_error("truncated .npy header: it says " + std::to_string(hlen) + " bytes, the file holds " +
                             std::to_string(file_size - dict_at) + " after the length field");
  if (hlen > (1u << 20)) throw std::runtime_error("implausible .npy header length " + std::to_string(hlen));
  std::string dict(hlen, '\0');
  if (!is.read(dict.data(), hlen)) throw std::runtime_error("truncated .npy header");

  const detail::Header h = detail::HeaderParser(dict).parse();
  const std::string& descr = h.descr;
  const std::string quoted = "'" + descr + "'";
  // '<', '>' or '|' (no byte order: one-byte types), a kind, a size in bytes.
  if (descr.size() < 3 || std::string("<>|=").find(descr[0]) == std::string::npos ||
      descr.find_first_not_of("0123456789", 2) != std::string::npos || descr.size() > 4)
    throw std::runtime_error("unsupported dtype " + quoted + " (float16/32/64, integers and bool are read)");
  const char order = descr[0];
  const char kind = descr[1];
  const int size = std::stoi(descr.substr(2));
  const bool swap = order == '>';  // '<', '|' and '=' are native on little-endian

  Array a;
  a.shape = h.shape;
  const std::string shape_text = detail::shape_text(a.shape);
  size_t n = 1;
  for (int64_t d : a.shape) {
    // Guard the product against wrapping around.
    if (d > 0 && n > kMaxElements / static_cast<size_t>(d)) throw std::runtime_error("array too large: shape " + shape_text);
    n *= static_cast<size_t>(d);
  }

  enum class T { f2, f4, f8, i1, i2, i4, i8, u1, u2, u4, u8, b1, none };
  T type = T::none;
  if (kind == 'f' && size == 2) type = T::f2;
  else if (kind == 'f' && size == 4) type = T::f4;
  else if (kind == 'f' && size == 8) type = T::f8;
  else if (kind == 'i' && size == 1) type = T::i1;
  else if (kind == 'i' && size == 2) type = T::i2;
  else if (kind == 'i' && size == 4) type = T::i4;
  else if (kind == 'i' && size == 8) type = T::i8;
  else if (kind == 'u' && size == 1) type = T::u1;
  else if (kind == 'u' && size == 2) type = T::u2;
  else if (kind == 'u' && size == 4) type = T::u4;
  else if (kind == 'u' && size == 8) type = T::u8;
  else if (kind == 'b' && size == 1) type = T::b1;
  else throw std::runtime_error("unsupported dtype " + quoted + " (float16/32/64, integers and bool are read)");

  // Compare what the header promises with what the file holds before
  // allocating anything of that size.
  const size_t bytes = n * static_cast<size_t>(size);
  const std::streamoff data_at = is.tellg();
  const size_t held = static_cast<size_t>(file_size - data_at);
  if (held < bytes)
    throw std::runtime_error("truncated data: expected " + std::to_string(bytes) + " bytes for shape " + shape_text +
                             ", the file holds " + std::to_string(held));
  if (held > bytes)
    throw std::runtime_error("trailing data: shape " + shape_text + " of " + quoted + " is " + std::to_string(bytes) +
                             " bytes, the file holds " + std::to_string(held) + " after the header");
  std::vector<char> raw(bytes);
  if (bytes && !is.read(raw.data(), static_cast<std::streamsize>(bytes)))
    throw std::runtime_error("truncated data: expected " + std::to_string(bytes) + " bytes for shape " + shape_text);

  a.data.resize(n);
  float* dst = a.data.data();
  const char* src = raw.data();
  switch (type) {
    case T::f2: detail::convert<detail::Half>(src, n, swap, dst); break;
    case T::f4: detail::convert<float>(src, n, swap, dst); break;
    case T::f8: detail::convert<double>(src, n, swap, dst); break;
    case T::i1: detail::convert<int8_t>(src, n, false, dst); break;
    case T::i2: detail::convert<int16_t>(src, n, swap, dst); break;
    case T::i4: detail::convert<int32_t>(src, n, swap, dst); break;
    case T::i8: detail::convert<int64_t>(src, n, swap, dst); break;
    case T::u1: detail::convert<uint8_t>(src, n, false, dst); break;
    case T::u2: detail::convert<uint16_t>(src, n, swap, dst); break;
    case T::u4: detail::convert<uint32_t>(src, n, swap, dst); break;
    case T::u8: detail::convert<uint64_t>(src, n, swap, dst); break;
    case T::b1: detail::convert<bool>(src, n, false, dst); break;
    case T::none: break;
  }

  if (h.fortran && a.shape.size() > 1) {
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

inline Array read(const std::string& path) {
  std::ifstream is(path, std::ios::binary);
  if (!is) throw std::runtime_error("cannot open file");
  return read(is);
}

}  // namespace featpipe::npy
