#include "provenance.hpp"

#include "../util.hpp"
#include "atomic_file.hpp"

#include <nlohmann/json.hpp>

namespace fs = std::filesystem;

namespace featpipe {

namespace {

// Provenance without machine-specific paths: two shards on two machines
// with the same pipeline and plugins agree.
nlohmann::json fingerprint(nlohmann::json j) {
  if (j.contains("pipeline")) j["pipeline"].erase("file");
  if (j.contains("plugins"))
    for (auto& p : j["plugins"]) p.erase("file");
  if (j.contains("steps"))
    for (auto& s : j["steps"])
      if (s.contains("files"))
        for (auto& [k, f] : s["files"].items()) f.erase("path");
  return j;
}

}  // namespace

void write_provenance(const Pipeline& pipe, const fs::path& outdir, bool overwrite) {
  const fs::path path = outdir / "provenance.json";
  const std::string text = pipe.provenance_json();
  std::error_code ec;
  if (fs::exists(path, ec) && !overwrite) {
    auto old = nlohmann::json::parse(util::read_file(path.string()), nullptr, false);
    if (!old.is_discarded() && fingerprint(old) != fingerprint(nlohmann::json::parse(text)))
      throw Error(path.string() + " describes features of another pipeline or plugin version; "
                  "use another output folder, or --overwrite to replace them");
    if (!old.is_discarded()) return;
  }
  write_atomic(path, [&](std::ostream& os) { os << text << "\n"; }, 0);
}

}  // namespace featpipe
