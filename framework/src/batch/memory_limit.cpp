#include "memory_limit.hpp"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace featpipe {
namespace {

namespace fs = std::filesystem;

// A limit file's value; 0 for "max", unreadable files and v1's "no limit"
// (2^63 rounded down to a page, or anything above 2^62).
uint64_t read_limit(const fs::path& file) {
  std::ifstream in(file);
  std::string text;
  if (!(in >> text) || text == "max") return 0;
  try {
    const unsigned long long v = std::stoull(text);
    return v >= (uint64_t{1} << 62) ? 0 : v;
  } catch (const std::exception&) {
    return 0;
  }
}

// The smallest limit set on `dir` or a parent of it up to `top` (a Slurm
// step's cgroup has none of its own; the job's, its parent, has it).
uint64_t smallest_up(fs::path dir, const fs::path& top, const char* file) {
  uint64_t best = 0;
  for (;;) {
    const uint64_t v = read_limit(dir / file);
    if (v && (!best || v < best)) best = v;
    if (dir == top || dir.parent_path() == dir) return best;
    dir = dir.parent_path();
  }
}

}  // namespace

uint64_t cgroup_memory_limit(const std::string& proc_self_cgroup, const std::string& fs_root) {
  const fs::path root(fs_root);
  uint64_t best = 0;
  auto take = [&](uint64_t v) {
    if (v && (!best || v < best)) best = v;
  };
  std::istringstream lines(proc_self_cgroup);
  std::string line;
  while (std::getline(lines, line)) {
    // "ID:CONTROLLERS:PATH": v2 is "0::PATH"; v1's memory line names "memory".
    const size_t a = line.find(':'), b = a == std::string::npos ? a : line.find(':', a + 1);
    if (b == std::string::npos) continue;
    const std::string controllers = line.substr(a + 1, b - a - 1), path = line.substr(b + 1);
    fs::path top;
    const char* file = nullptr;
    if (controllers.empty()) {
      top = root, file = "memory.max";
    } else {
      std::istringstream names(controllers);
      std::string name;
      bool memory = false;
      while (std::getline(names, name, ',')) memory = memory || name == "memory";
      if (!memory) continue;
      top = root / "memory", file = "memory.limit_in_bytes";
    }
    const fs::path rel = fs::path(path).relative_path();
    const fs::path own = rel.empty() ? top : top / rel;
    std::error_code ec;
    take(fs::is_directory(own, ec) ? smallest_up(own, top, file) : read_limit(top / file));
  }
  return best;
}

uint64_t usable_memory() {
  const long pages = ::sysconf(_SC_PHYS_PAGES), page = ::sysconf(_SC_PAGESIZE);
  const uint64_t ram = pages > 0 && page > 0 ? static_cast<uint64_t>(pages) * static_cast<uint64_t>(page) : 0;
  std::ifstream in("/proc/self/cgroup");
  std::stringstream text;
  text << in.rdbuf();
  const uint64_t limit = cgroup_memory_limit(text.str(), "/sys/fs/cgroup");
  return limit && (!ram || limit < ram) ? limit : ram;
}

}  // namespace featpipe
