#include "util.hpp"

#include <featpipe/featpipe.hpp>

#include <openssl/evp.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <sstream>

namespace featpipe::util {

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::vector<std::string> split(std::string_view s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    size_t end = s.find(sep, start);
    if (end == std::string_view::npos) end = s.size();
    out.emplace_back(s.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

size_t levenshtein(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

std::vector<std::string> closest(std::string_view wanted, const std::vector<std::string>& names, size_t most) {
  std::vector<std::pair<size_t, std::string>> scored;
  const std::string w = lower(wanted);
  for (const auto& n : names) {
    const std::string l = lower(n);
    size_t d = levenshtein(w, l);
    // "stft" should find "audio.stft": compare with the part after the family too.
    size_t dot = l.find('.');
    if (dot != std::string::npos) d = std::min(d, levenshtein(w, l.substr(dot + 1)) + 1);
    // "hop" should find "hop_length": a name containing the word is close.
    if (w.size() >= 3 && l.find(w) != std::string::npos) d = std::min<size_t>(d, 1);
    if (d <= std::max<size_t>(2, w.size() / 3)) scored.emplace_back(d, n);
  }
  std::sort(scored.begin(), scored.end());
  std::vector<std::string> out;
  for (size_t k = 0; k < scored.size() && k < most; ++k) out.push_back(scored[k].second);
  return out;
}

std::string sha256_hex(std::string_view bytes) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(bytes.data(), bytes.size(), md, &len, EVP_sha256(), nullptr);
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned k = 0; k < len; ++k) {
    out += hex[md[k] >> 4];
    out += hex[md[k] & 15];
  }
  return out;
}

std::string read_file(const std::string& path) {
  std::ifstream is(path, std::ios::binary);
  if (!is) throw Error("cannot read " + path);
  std::ostringstream ss;
  ss << is.rdbuf();
  return ss.str();
}

std::string sha256_file(const std::string& path) { return sha256_hex(read_file(path)); }

uint64_t fnv1a64(std::string_view s) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

std::string join(const std::vector<std::string>& items, std::string_view sep) {
  std::string out;
  for (size_t k = 0; k < items.size(); ++k) {
    if (k) out += sep;
    out += items[k];
  }
  return out;
}

}  // namespace featpipe::util
