#include "provenance.hpp"

#include "../util.hpp"
#include "atomic_file.hpp"
#include "manifest.hpp"
#include "manifest_entry.hpp"

#include <nlohmann/json.hpp>

#include <cstring>
#include <fstream>
#include <set>
#include <vector>

namespace fs = std::filesystem;
using nlohmann::json;

namespace featpipe {

namespace {

// Provenance as meaning: without machine-specific paths (two shards on two
// machines agree) and without the pipeline file's hash and name (a comment
// or `1.0e-6` for `0.000001` changes no feature; parameters are compared
// resolved).
json fingerprint(json j) {
  if (j.contains("pipeline")) j.erase("pipeline");
  if (j.contains("plugins"))
    for (auto& p : j["plugins"]) p.erase("file");
  if (j.contains("steps"))
    for (auto& s : j["steps"])
      if (s.contains("files"))
        for (auto& [k, f] : s["files"].items()) f.erase("path");
  return j;
}

std::string brief(const json* v) {
  if (!v) return "(none)";
  std::string s = v->dump();
  return s.size() > 60 ? s.substr(0, 57) + "..." : s;
}

std::string name_of(const json& a, const json& b, const char* key) {
  const json& x = b.is_object() && b.contains(key) ? b : a;
  return x.is_object() && x.contains(key) && x[key].is_string() ? x[key].get<std::string>() : "?";
}

// An element of the steps or plugins list, in the words of a refusal.
std::string element(const std::string& list, const json& a, const json& b, size_t index) {
  if (list == "steps") return "step " + std::to_string(index + 1) + " '" + name_of(a, b, "use") + "'";
  return "plugin '" + name_of(a, b, "name") + "'";
}

void diff(const json* a, const json* b, const std::string& where, bool in_params, std::vector<std::string>& out) {
  if (a && b && *a == *b) return;
  if (a && b && a->is_object() && b->is_object()) {
    std::set<std::string> keys;
    for (auto& [k, v] : a->items()) keys.insert(k);
    for (auto& [k, v] : b->items()) keys.insert(k);
    for (const auto& k : keys) {
      const json* x = a->contains(k) ? &(*a)[k] : nullptr;
      const json* y = b->contains(k) ? &(*b)[k] : nullptr;
      std::string w = in_params ? where + " parameter " + k : (k == "params" ? where : (where.empty() ? k : where + " " + k));
      diff(x, y, w, k == "params", out);
    }
    return;
  }
  if (a && b && a->is_array() && b->is_array() && a->size() == b->size() && (where == "steps" || where == "plugins")) {
    for (size_t i = 0; i < a->size(); ++i) diff(&(*a)[i], &(*b)[i], element(where, (*a)[i], (*b)[i], i), false, out);
    return;
  }
  out.push_back(where + ": " + brief(a) + " -> " + brief(b));
}

// Whether a manifest's `output` names a file under the folder: a line
// naming "../x" or "/x" (edited, or planted) never removes anything else.
bool inside(const std::string& output) {
  const fs::path p(output);
  if (output.empty() || p.is_absolute()) return false;
  for (const auto& part : p)
    if (part == "..") return false;
  return true;
}

}  // namespace

std::string provenance_difference(const std::string& old_text, const std::string& new_text) {
  json a = json::parse(old_text, nullptr, false), b = json::parse(new_text, nullptr, false);
  if (a.is_discarded()) return "the old provenance.json is unreadable";
  if (b.is_discarded()) return "the new provenance is unreadable";
  a = fingerprint(std::move(a));
  b = fingerprint(std::move(b));
  std::vector<std::string> out;
  diff(&a, &b, "", false, out);
  std::string s;
  for (size_t k = 0; k < out.size() && k < 4; ++k) s += (k ? "; " : "") + out[k];
  if (out.size() > 4) s += "; and " + std::to_string(out.size() - 4) + " more";
  return s;
}

ProvenanceState check_provenance(const std::string& text, const fs::path& outdir, bool overwrite) {
  const fs::path path = outdir / "provenance.json";
  std::error_code ec;
  if (!fs::exists(path, ec)) return ProvenanceState::absent;
  const std::string why = provenance_difference(util::read_file(path.string()), text);
  if (why.empty()) return ProvenanceState::same;
  if (!overwrite)
    throw Error(path.string() + " describes features of another pipeline or plugin version (" + why +
                "); use another output folder, or --overwrite to replace them");
  return ProvenanceState::replace;
}

namespace {

constexpr const char* kClearing = ".clearing";

// Removes the outputs a journal (a manifest set aside) lists ok or
// skipped, then the journal.
void clear_journal(const fs::path& outdir, const fs::path& journal) {
  std::error_code ec;
  {
    std::ifstream is(journal);
    for (std::string line; std::getline(is, line);)
      if (auto e = ManifestEntry::parse(line); e && e->status != ManifestEntry::Status::error && inside(e->output))
        fs::remove(outdir / e->output, ec);
  }
  fs::remove(journal, ec);
}

}  // namespace

void clear_listed_outputs(const fs::path& outdir) {
  finish_clearing(outdir);
  // Each manifest is first set aside under a name no reader takes (one
  // rename), then its outputs removed: at every instant an ok line is
  // either in a manifest with its output in place, or in a journal that
  // the next run finishes (finish_clearing).
  std::vector<fs::path> set_aside;
  for (const auto& m : manifest_files(outdir)) {
    std::string name = ".";  // appended, not "." + string: GCC 12 warns falsely (-Wrestrict, PR105651)
    name += m.filename().string();
    name += kClearing;
    const fs::path journal = outdir / name;
    std::error_code ec;
    fs::rename(m, journal, ec);
    if (ec) throw Error("cannot set aside " + m.string() + ": " + ec.message());
    set_aside.push_back(journal);
  }
  for (const auto& j : set_aside) clear_journal(outdir, j);
}

void finish_clearing(const fs::path& outdir) {
  std::error_code ec;
  std::vector<fs::path> journals;
  for (const auto& f : fs::directory_iterator(outdir, ec)) {
    const std::string name = f.path().filename().string();
    if (name.rfind(".manifest", 0) == 0 && name.size() > std::strlen(kClearing) &&
        name.compare(name.size() - std::strlen(kClearing), std::string::npos, kClearing) == 0)
      journals.push_back(f.path());
  }
  for (const auto& j : journals) clear_journal(outdir, j);
}

void store_provenance(const std::string& text, const fs::path& outdir) {
  place_provenance(stage_provenance(text, outdir), outdir);
}

fs::path stage_provenance(const std::string& text, const fs::path& outdir) {
  // A temporary name of this process: a run killed before placing it
  // leaves it to remove_stale_temporaries.
  const fs::path staged = temporary_path(outdir / "provenance.json", 1);
  write_atomic(staged, [&](std::ostream& os) { os << text << "\n"; }, 0);
  return staged;
}

void place_provenance(const fs::path& staged, const fs::path& outdir) {
  std::error_code ec;
  fs::rename(staged, outdir / "provenance.json", ec);
  if (ec) {
    fs::remove(staged, ec);
    throw Error("cannot write " + (outdir / "provenance.json").string() + ": " + ec.message());
  }
}

}  // namespace featpipe
