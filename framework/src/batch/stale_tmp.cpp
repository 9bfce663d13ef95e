#include "stale_tmp.hpp"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

namespace fs = std::filesystem;

namespace featpipe {

namespace {

bool all_digits(const std::string& s) {
  if (s.empty() || s.size() > 9) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

std::string this_host() {
  char buf[HOST_NAME_MAX + 1] = {};
  if (gethostname(buf, sizeof buf - 1) != 0 || !buf[0]) return "localhost";
  return buf;
}

// A zombie counts as dead: it will never rename its file. A killed run's
// workers are zombies until init reaps them, and a rerun started at once
// would otherwise leave their temporaries until the run after.
bool zombie(long pid) {
  std::ifstream is("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(is)), std::istreambuf_iterator<char>());
  const size_t paren = stat.rfind(')');  // the command name may hold spaces and ')'
  return paren != std::string::npos && paren + 2 < stat.size() && (stat[paren + 2] == 'Z' || stat[paren + 2] == 'X');
}

bool dead(long pid) {
  if (pid <= 0) return false;
  if (::kill(static_cast<pid_t>(pid), 0) != 0) return errno == ESRCH;
  return zombie(pid);
}

}  // namespace

bool parse_temporary_name(const std::string& name, long& pid, std::string& host) {
  if (name.size() < 2 || name[0] != '.') return false;
  const size_t at = name.rfind(".tmp-");
  if (at == std::string::npos || at == 0) return false;
  std::string rest = name.substr(at + 5);  // PID-W[@HOST]
  host.clear();
  if (size_t a = rest.find('@'); a != std::string::npos) {
    host = rest.substr(a + 1);
    if (host.empty()) return false;
    rest.resize(a);
  }
  const size_t dash = rest.find('-');
  if (dash == std::string::npos || !all_digits(rest.substr(0, dash)) || !all_digits(rest.substr(dash + 1))) return false;
  pid = std::stol(rest.substr(0, dash));
  return true;
}

std::vector<std::string> remove_stale_temporaries(const std::string& outdir) {
  std::vector<std::string> removed;
  const std::string host = this_host();
  std::error_code ec;
  fs::recursive_directory_iterator it(outdir, fs::directory_options::skip_permission_denied, ec), end;
  for (; !ec && it != end; it.increment(ec)) {
    long pid = 0;
    std::string owner;
    if (!parse_temporary_name(it->path().filename().string(), pid, owner)) continue;
    if (!owner.empty() && owner != host) continue;
    std::error_code type_ec;
    if (!it->is_regular_file(type_ec) || !dead(pid)) continue;
    std::error_code rm_ec;
    if (fs::remove(it->path(), rm_ec)) removed.push_back(it->path().string());
  }
  return removed;
}

}  // namespace featpipe
