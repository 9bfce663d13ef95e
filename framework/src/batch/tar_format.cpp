#include "tar_format.hpp"

#include <featpipe/featpipe.hpp>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <fstream>

namespace featpipe::tar {

namespace {

// `width - 1` octal digits, zero-padded, then NUL.
void octal(char* field, size_t width, uint64_t v) {
  for (size_t k = width - 1; k-- > 0; v >>= 3) field[k] = static_cast<char>('0' + (v & 7));
  field[width - 1] = '\0';
}

std::string block(const std::string& name, uint64_t size, int64_t mtime, char type) {
  std::string b(kBlock, '\0');
  char* h = b.data();
  std::memcpy(h, name.data(), std::min<size_t>(name.size(), 100));
  octal(h + 100, 8, 0644);
  octal(h + 108, 8, 0);
  octal(h + 116, 8, 0);
  octal(h + 124, 12, size);
  octal(h + 136, 12, static_cast<uint64_t>(mtime < 0 ? 0 : mtime));
  h[156] = type;
  std::memcpy(h + 257, "ustar\0" "00", 8);
  std::memset(h + 148, ' ', 8);  // the checksum counts its own field as spaces
  unsigned sum = 0;
  for (unsigned char c : b) sum += c;
  std::snprintf(h + 148, 8, "%06o", sum);  // six digits, NUL, then the space left in place
  h[155] = ' ';
  return b;
}

// "LEN path=NAME\n", LEN counting itself.
std::string pax_record(const std::string& key, const std::string& value) {
  const size_t body = 1 + key.size() + 1 + value.size() + 1;
  size_t len = body + 1;
  while (std::to_string(len).size() + body != len) ++len;
  return std::to_string(len) + " " + key + "=" + value + "\n";
}

uint64_t parse_octal(const char* f, size_t width) {
  uint64_t v = 0;
  size_t k = 0;
  while (k < width && f[k] == ' ') ++k;
  for (; k < width && f[k] >= '0' && f[k] <= '7'; ++k) v = v * 8 + static_cast<uint64_t>(f[k] - '0');
  return v;
}

}  // namespace

std::string member_header(const std::string& name, uint64_t size, int64_t mtime) {
  if (size >= (uint64_t{1} << 33)) throw Error(name + ": " + std::to_string(size) + " bytes, more than a tar member's 8 GiB");
  if (name.size() <= 100) return block(name, size, mtime, '0');
  const std::string rec = pax_record("path", name);
  // The ustar name is a truncated stand-in; readers take the pax path.
  return block("././@PaxHeader", rec.size(), mtime, 'x') + rec + std::string(padding(rec.size()), '\0') +
         block(name.substr(0, 100), size, mtime, '0');
}

std::vector<Member> members(const std::filesystem::path& file) {
  std::ifstream is(file, std::ios::binary);
  if (!is) throw Error(file.string() + ": cannot read");
  is.seekg(0, std::ios::end);
  const uint64_t end = static_cast<uint64_t>(is.tellg());
  is.seekg(0);
  std::vector<Member> out;
  std::string next_name;  // from a pax or GNU long-name header
  char h[kBlock];
  for (uint64_t at = 0;;) {
    if (at + kBlock > end || !is.seekg(static_cast<std::streamoff>(at)) || !is.read(h, kBlock))
      throw Error(file.string() + ": ends without the tar end blocks (cut short?)");
    if (std::all_of(h, h + kBlock, [](char c) { return c == 0; })) return out;
    unsigned sum = 0;
    for (size_t k = 0; k < kBlock; ++k) sum += (k >= 148 && k < 156) ? ' ' : static_cast<unsigned char>(h[k]);
    if (parse_octal(h + 148, 8) != sum) throw Error(file.string() + ": bad tar header checksum at byte " + std::to_string(at));
    const uint64_t size = parse_octal(h + 124, 12), data = at + kBlock;
    if (data + size > end) throw Error(file.string() + ": a member runs past the end (cut short?)");
    const char type = h[156];
    if (type == 'x' || type == 'L') {
      std::string body(size, '\0');
      is.seekg(static_cast<std::streamoff>(data));
      is.read(body.data(), static_cast<std::streamsize>(size));
      if (type == 'L') {
        next_name = body.substr(0, body.find('\0'));
      } else {
        for (size_t p = 0; p < body.size();) {  // "LEN key=value\n" records
          const size_t sp = body.find(' ', p);
          if (sp == std::string::npos) break;
          const size_t len = std::stoul(body.substr(p, sp - p));
          if (len == 0 || p + len > body.size()) break;
          const std::string rec = body.substr(sp + 1, p + len - sp - 2);
          if (rec.rfind("path=", 0) == 0) next_name = rec.substr(5);
          p += len;
        }
      }
    } else if (type == '0' || type == '\0') {
      std::string name = next_name;
      if (name.empty()) {
        name.assign(h, strnlen(h, 100));
        const std::string prefix(h + 345, strnlen(h + 345, 155));
        if (!prefix.empty()) name = prefix + "/" + name;
      }
      out.push_back({name, data, size});
      next_name.clear();
    } else {
      next_name.clear();
    }
    at = data + size + padding(size);
  }
}

}  // namespace featpipe::tar
