#include "atomic_file.hpp"

#include <featpipe/featpipe.hpp>

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

namespace fs = std::filesystem;

namespace featpipe {

namespace {
const std::string& host_name() {
  static const std::string name = [] {
    char buf[256] = {};
    return gethostname(buf, sizeof buf - 1) == 0 && buf[0] ? std::string(buf) : std::string("localhost");
  }();
  return name;
}
}  // namespace

void write_atomic(const fs::path& out, const std::function<void(std::ostream&)>& body, int writer) {
  std::error_code ec;
  fs::create_directories(out.parent_path(), ec);
  if (ec) throw Error("cannot create folder " + out.parent_path().string() + ": " + ec.message());
  std::string name = ".";  // appended, not "." + string: GCC 12 warns falsely (-Wrestrict, PR105651)
  name += out.filename().string();
  // The host too: a run cleans the leftovers of its host's dead pids
  // (stale_tmp.hpp), never those of a shard on another machine.
  name += ".tmp-" + std::to_string(getpid()) + "-" + std::to_string(writer) + "@" + host_name();
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
