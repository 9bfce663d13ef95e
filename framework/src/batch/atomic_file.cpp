#include "atomic_file.hpp"

#include <featpipe/featpipe.hpp>

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <set>

namespace fs = std::filesystem;

namespace featpipe {

namespace {
const std::string kTmp = ".tmp-";  // ".<name>.tmp-<pid>-<writer>"
}  // namespace

void write_atomic(const fs::path& out, const std::function<void(std::ostream&)>& body, int writer) {
  std::error_code ec;
  fs::create_directories(out.parent_path(), ec);
  if (ec) throw Error("cannot create folder " + out.parent_path().string() + ": " + ec.message());
  std::string name = ".";  // appended, not "." + string: GCC 12 warns falsely (-Wrestrict, PR105651)
  name += out.filename().string();
  name += kTmp + std::to_string(getpid()) + "-" + std::to_string(writer);
  const fs::path tmp = out.parent_path() / name;
  {
    std::ofstream os(tmp, std::ios::binary | std::ios::trunc);
    if (!os) throw Error("cannot write " + out.string() + ": " + std::strerror(errno));
    try {
      body(os);
      os.flush();
      if (!os) throw Error("write failed");
    } catch (const std::exception& e) {
      os.close();
      fs::remove(tmp, ec);
      throw Error("cannot write " + out.string() + ": " + e.what());
    }
  }
  fs::rename(tmp, out, ec);
  if (ec) {
    fs::remove(tmp, ec);
    throw Error("cannot write " + out.string() + ": " + ec.message());
  }
}

}  // namespace featpipe

namespace featpipe {

size_t remove_abandoned_temps(const std::vector<fs::path>& outs) {
  std::map<fs::path, std::set<std::string>> by_folder;
  for (const fs::path& o : outs) by_folder[o.parent_path()].insert(o.filename().string());
  size_t removed = 0;
  for (const auto& [folder, names] : by_folder) {
    std::error_code ec;
    for (fs::directory_iterator it(folder, ec), end; !ec && it != end; it.increment(ec)) {
      const std::string n = it->path().filename().string();
      const size_t at = n.rfind(kTmp);
      if (n.empty() || n[0] != '.' || at == std::string::npos || !names.count(n.substr(1, at - 1))) continue;
      std::error_code rm;
      if (fs::remove(it->path(), rm)) ++removed;
    }
  }
  return removed;
}

}  // namespace featpipe
