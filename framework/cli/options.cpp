#include "options.hpp"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <limits>

namespace featpipe::cli {

namespace {
// The whole text as one number, or nullopt ("16k", "", "1e3x" are not).
template <class T>
bool parse_all(const std::string& s, T& out) {
  if (s.empty()) return false;
  char* end = nullptr;
  errno = 0;
  if constexpr (std::is_floating_point_v<T>) out = std::strtod(s.c_str(), &end);
  else out = std::strtoll(s.c_str(), &end, 10);
  return errno == 0 && end && *end == '\0';
}
}  // namespace

CLI::Validator whole_number(int min, int max) {
  std::string range = max == std::numeric_limits<int>::max()
                          ? "of at least " + std::to_string(min)
                          : "from " + std::to_string(min) + " to " + std::to_string(max);
  std::string desc = max == std::numeric_limits<int>::max()
                         ? "INT >= " + std::to_string(min)
                         : "INT in " + std::to_string(min) + ".." + std::to_string(max);
  return CLI::Validator(
      [min, max, range](std::string& s) -> std::string {
        long long v = 0;
        if (!parse_all(s, v) || v < min || v > max) return "expected a whole number " + range + ", got " + s;
        return {};
      },
      desc);
}

CLI::Validator positive_number(const std::string& unit_hint) {
  return CLI::Validator(
      [unit_hint](std::string& s) -> std::string {
        double v = 0;
        if (!parse_all(s, v) || !std::isfinite(v) || !(v > 0))
          return "expected a number above 0" + (unit_hint.empty() ? "" : " (" + unit_hint + ")") + ", got " + s;
        return {};
      },
      "NUMBER > 0");
}

std::string count_text(size_t n, const std::string& singular, const std::string& plural) {
  return std::to_string(n) + " " + (n == 1 ? singular : plural.empty() ? singular + "s" : plural);
}

}  // namespace featpipe::cli
