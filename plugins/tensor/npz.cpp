// A small zip reader, just what .npz needs: the central directory (zip64
// included, since numpy forces zip64 headers), stored and deflated members,
// CRC-32 checked. Every offset and size is bounds-checked against the file,
// so a damaged archive is an error, never a read past the buffer.
#include "npz.hpp"

#include <zlib.h>

#include <cstdint>
#include <fstream>
#include <iterator>
#include <algorithm>
#include <stdexcept>
#include <vector>

namespace featpipe::tensor {
namespace {

struct Member {
  std::string name;
  uint16_t method = 0;
  uint32_t crc = 0;
  uint64_t csize = 0, usize = 0, offset = 0;
};

[[noreturn]] void bad(const std::string& what) { throw std::runtime_error("not a readable .npz (zip) file: " + what); }

class Zip {
 public:
  explicit Zip(const std::string& path) {
    std::ifstream is(path, std::ios::binary);
    if (!is) throw std::runtime_error("cannot open file");
    b_.assign(std::istreambuf_iterator<char>(is), std::istreambuf_iterator<char>());
    read_directory();
  }

  const std::vector<Member>& members() const { return members_; }

  std::string extract(const Member& m) const {
    need(m.offset, 30, "local header");
    if (u32(m.offset) != 0x04034b50) bad("bad local header of " + m.name);
    const uint64_t data = m.offset + 30 + u16(m.offset + 26) + u16(m.offset + 28);
    need(data, m.csize, "data of " + m.name);
    // Deflate expands at most ~1032:1: a larger claim is a lie, refused
    // before that much memory is allocated for it.
    if (m.usize > (uint64_t{1} << 40) || (m.method == 8 && m.usize / 1040 > m.csize + 1))
      bad(m.name + " claims " + std::to_string(m.usize) + " bytes from " + std::to_string(m.csize));
    std::string out;
    if (m.method == 0) {
      if (m.csize != m.usize) bad("stored member " + m.name + " with two sizes");
      out.assign(b_.data() + data, m.usize);
    } else if (m.method == 8) {
      out.resize(m.usize);
      z_stream z{};
      if (inflateInit2(&z, -MAX_WBITS) != Z_OK) throw std::runtime_error("zlib: inflateInit2 failed");
      z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(b_.data() + data));
      z.next_out = reinterpret_cast<Bytef*>(out.data());
      // zlib counts in uInt: feed at most 1 GiB per call.
      uint64_t in_left = m.csize, out_left = m.usize;
      int rc = Z_OK;
      while (rc == Z_OK) {
        const uInt in_now = static_cast<uInt>(std::min<uint64_t>(in_left, 1u << 30));
        const uInt out_now = static_cast<uInt>(std::min<uint64_t>(out_left, 1u << 30));
        z.avail_in = in_now;
        z.avail_out = out_now;
        rc = inflate(&z, Z_NO_FLUSH);
        in_left -= in_now - z.avail_in;
        out_left -= out_now - z.avail_out;
      }
      inflateEnd(&z);
      if (rc != Z_STREAM_END || out_left != 0) bad(m.name + ": the deflated data is damaged or truncated");
    } else {
      bad(m.name + " uses compression method " + std::to_string(m.method) + " (numpy writes stored or deflated)");
    }
    uLong crc = crc32(0, nullptr, 0);
    for (uint64_t at = 0; at < out.size(); at += 1u << 30)
      crc = crc32(crc, reinterpret_cast<const Bytef*>(out.data() + at),
                  static_cast<uInt>(std::min<uint64_t>(out.size() - at, 1u << 30)));
    if (crc != m.crc) bad(m.name + ": CRC-32 mismatch");
    return out;
  }

 private:
  void need(uint64_t at, uint64_t n, const std::string& what) const {
    if (at > b_.size() || n > b_.size() - at) bad("truncated (" + what + ")");
  }
  uint64_t le(uint64_t at, int n) const {
    uint64_t v = 0;
    for (int k = n - 1; k >= 0; --k) v = (v << 8) | static_cast<unsigned char>(b_[at + k]);
    return v;
  }
  uint16_t u16(uint64_t at) const { return static_cast<uint16_t>(le(at, 2)); }
  uint32_t u32(uint64_t at) const { return static_cast<uint32_t>(le(at, 4)); }
  uint64_t u64(uint64_t at) const { return le(at, 8); }

  void read_directory() {
    if (b_.size() < 22) bad("too short");
    // End of central directory: 22 bytes plus a comment of up to 65535.
    uint64_t eocd = b_.size() - 22;
    const uint64_t lowest = b_.size() > 22 + 65535 ? b_.size() - 22 - 65535 : 0;
    while (u32(eocd) != 0x06054b50) {
      if (eocd == lowest) bad("no end of central directory");
      --eocd;
    }
    uint64_t count = u16(eocd + 10), size = u32(eocd + 12), start = u32(eocd + 16);
    if (count == 0xFFFF || size == 0xFFFFFFFF || start == 0xFFFFFFFF) {  // zip64
      if (eocd < 20 || u32(eocd - 20) != 0x07064b50) bad("no zip64 locator");
      const uint64_t at = u64(eocd - 20 + 8);
      need(at, 56, "zip64 end of central directory");
      if (u32(at) != 0x06064b50) bad("bad zip64 end of central directory");
      count = u64(at + 32), size = u64(at + 40), start = u64(at + 48);
    }
    need(start, size, "central directory");
    uint64_t at = start;
    for (uint64_t k = 0; k < count; ++k) {
      need(at, 46, "central directory");
      if (u32(at) != 0x02014b50) bad("bad central directory entry");
      Member m;
      m.method = u16(at + 10);
      m.crc = u32(at + 16);
      m.csize = u32(at + 20), m.usize = u32(at + 24), m.offset = u32(at + 42);
      const uint64_t nlen = u16(at + 28), xlen = u16(at + 30), clen = u16(at + 32);
      need(at + 46, nlen + xlen + clen, "central directory");
      m.name.assign(b_.data() + at + 46, nlen);
      // Zip64 extra field: the 64-bit values of the fields set to all ones, in this order.
      for (uint64_t x = at + 46 + nlen, end = x + xlen; x + 4 <= end;) {
        const uint16_t id = u16(x), len = u16(x + 2);
        if (x + 4 + len > end) bad("bad extra field of " + m.name);
        if (id == 0x0001) {
          uint64_t f = x + 4, fend = f + len;
          for (uint64_t* v : {&m.usize, &m.csize, &m.offset})
            if (*v == 0xFFFFFFFF) {
              if (f + 8 > fend) bad("short zip64 field of " + m.name);
              *v = u64(f), f += 8;
            }
        }
        x += 4 + len;
      }
      members_.push_back(std::move(m));
      at += 46 + nlen + xlen + clen;
    }
  }

  std::string b_;
  std::vector<Member> members_;
};

std::string array_name(const std::string& member) {
  return member.size() > 4 && member.compare(member.size() - 4, 4, ".npy") == 0 ? member.substr(0, member.size() - 4)
                                                                                 : member;
}

std::string listed(const std::vector<Member>& ms) {
  std::string s;
  for (const auto& m : ms) s += (s.empty() ? "" : ", ") + array_name(m.name);
  return s.empty() ? "none" : s;
}

}  // namespace

std::string npz_member(const std::string& path, const std::string& key) {
  const Zip zip(path);
  const auto& ms = zip.members();
  if (key.empty()) {
    if (ms.size() != 1)
      throw std::runtime_error("the .npz holds " + std::to_string(ms.size()) + " arrays (" + listed(ms) +
                               "): name one with `key`");
    return zip.extract(ms[0]);
  }
  for (const auto& m : ms)
    if (m.name == key + ".npy" || m.name == key) return zip.extract(m);
  throw std::runtime_error("no array '" + key + "' in the .npz (it holds: " + listed(ms) + ")");
}

}  // namespace featpipe::tensor
