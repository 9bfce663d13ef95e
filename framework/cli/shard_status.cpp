// Reading a run folder's shards (see shard_status.hpp).
#include "shard_status.hpp"

// The engine's own parts, compiled into the CLI (the library hides them):
// the same manifest lines, record and provenance comparison as `run` uses.
#include "batch/manifest.hpp"
#include "batch/manifest_entry.hpp"
#include "batch/provenance.hpp"

#include <featpipe/featpipe.hpp>
#include <featpipe/runner.hpp>

#include <nlohmann/json.hpp>

#include <signal.h>

#include <algorithm>
#include <cerrno>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <unordered_map>

namespace fs = std::filesystem;

namespace featpipe::cli {
namespace {

constexpr size_t kExamples = 3;

// "manifest-K-of-N.jsonl" / "run-K-of-N.json" -> K, N; the unsharded names -> 0, 1.
bool shard_of(const std::string& name, const std::string& stem, const std::string& ext, int& k, int& n) {
  if (name == stem + ext) {
    k = 0, n = 1;
    return true;
  }
  if (name.rfind(stem + "-", 0) != 0 || name.size() <= ext.size() ||
      name.compare(name.size() - ext.size(), ext.size(), ext) != 0)
    return false;
  const std::string mid = name.substr(stem.size() + 1, name.size() - stem.size() - 1 - ext.size());
  const size_t of = mid.find("-of-");
  if (of == std::string::npos) return false;
  try {
    size_t used = 0;
    k = std::stoi(mid.substr(0, of), &used);
    if (used != of) return false;
    n = std::stoi(mid.substr(of + 4), &used);
    if (used != mid.size() - of - 4) return false;
  } catch (const std::exception&) {
    return false;
  }
  return n >= 1 && k >= 0 && k < n;
}

// A name as a record holds it: bytes that are not UTF-8 become U+FFFD.
std::string as_utf8(const std::string& s) {
  for (unsigned char c : s)
    if (c >= 0x80) {
      const std::string quoted = nlohmann::json(s).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
      return nlohmann::json::parse(quoted).get<std::string>();
    }
  return s;
}

void replace_all(std::string& s, const std::string& what, const std::string& with) {
  if (what.empty()) return;
  for (size_t at = s.find(what); at != std::string::npos; at = s.find(what, at + with.size())) s.replace(at, what.size(), with);
}

// The same failure for many inputs reads as one reason: the names taken out.
std::string reason_of(const ManifestEntry& e) {
  std::string r = e.error;
  replace_all(r, e.input, "<input>");
  replace_all(r, e.output, "<output>");
  // Decoders name the file by its base name, quoted.
  replace_all(r, "'" + fs::path(e.input).filename().string() + "'", "'<name>'");
  return r;
}

// The recorded run still running here: its pid alive and, where /proc
// tells, running the recorded command (a pid reused since is not the run).
bool still_running(const RunRecord& r) {
  if (r.pid <= 0 || (::kill(static_cast<pid_t>(r.pid), 0) != 0 && errno != EPERM)) return false;
  std::ifstream is("/proc/" + std::to_string(r.pid) + "/cmdline", std::ios::binary);
  if (!is || r.command.empty()) return true;
  std::vector<std::string> args;
  for (std::string a; std::getline(is, a, '\0');) args.push_back(as_utf8(a));  // as the record holds them
  return args == r.command;
}

std::string read_text(const fs::path& p) {
  std::ifstream is(p);
  std::stringstream ss;
  ss << is.rdbuf();
  return ss.str();
}

// The shard's manifest against its record: per planned input the latest
// line counts (ok or skipped: done; error: failed).
void read_manifest(const fs::path& file, ShardStatus& s) {
  std::ifstream is(file);
  if (!is) throw Error(printable_name(file.string()) + ": cannot be read");
  std::unordered_map<std::string, ManifestEntry> last;  // by input
  std::vector<std::string> order;
  std::set<std::string> not_taken;
  for (std::string text; std::getline(is, text);) {
    if (text.find_first_not_of(" \t\r") == std::string::npos) continue;
    auto e = ManifestEntry::parse(text);
    if (!e) {
      ++s.torn;
      continue;
    }
    if (e->status == ManifestEntry::Status::not_taken) {
      not_taken.insert(e->input);
      continue;
    }
    std::string key = as_utf8(e->input);
    auto [it, fresh] = last.try_emplace(key);
    if (fresh) order.push_back(key);
    it->second = std::move(*e);
  }
  if (is.bad()) throw Error(printable_name(file.string()) + ": cannot be read");
  s.not_taken = not_taken.size();

  std::set<std::string> planned;
  if (s.record) planned.insert(s.record->planned.begin(), s.record->planned.end());
  std::map<std::string, ErrorGroup> groups;
  for (const std::string& key : order) {
    if (s.record && !planned.count(key)) {
      ++s.unplanned;
      continue;
    }
    const ManifestEntry& e = last[key];
    if (e.status != ManifestEntry::Status::error) {
      ++s.done;
      continue;
    }
    ++s.failed;
    ErrorGroup& g = groups[reason_of(e)];
    if (g.examples.size() < kExamples) g.examples.push_back(e.input);
    ++g.count;
  }
  for (auto& [reason, g] : groups) {
    g.reason = reason;
    s.errors.push_back(std::move(g));
  }
  std::stable_sort(s.errors.begin(), s.errors.end(), [](const ErrorGroup& a, const ErrorGroup& b) { return a.count > b.count; });
  if (s.record) {
    size_t missing = 0;
    for (const std::string& in : s.record->planned)
      if (!last.count(in) && missing++ < kExamples) s.missing_examples.push_back(in);
    s.missing = missing;
  }
}

ShardStatus::State state_of(const ShardStatus& s) {
  using State = ShardStatus::State;
  if (!s.record) return s.has_manifest || !s.record_error.empty() ? State::no_record : State::not_started;
  if (s.record->ended.empty()) {
    if (s.record->host != this_host_name()) return State::unfinished;
    return still_running(*s.record) ? State::running : State::killed;
  }
  if (s.missing && *s.missing > 0) return State::incomplete;
  return s.failed ? State::failed : State::complete;
}

}  // namespace

const char* to_string(ShardStatus::State s) {
  switch (s) {
    case ShardStatus::State::complete: return "complete";
    case ShardStatus::State::failed: return "failed";
    case ShardStatus::State::incomplete: return "incomplete";
    case ShardStatus::State::running: return "running";
    case ShardStatus::State::killed: return "killed";
    case ShardStatus::State::unfinished: return "unfinished";
    case ShardStatus::State::not_started: return "not started";
    case ShardStatus::State::no_record: return "no record";
    case ShardStatus::State::other_pipeline: return "other pipeline";
  }
  return "?";
}

bool FolderStatus::complete() const {
  return std::all_of(shards.begin(), shards.end(), [](const ShardStatus& s) { return s.ok(); });
}

FolderStatus folder_status(const fs::path& outdir, int shard_count) {
  std::error_code ec;
  if (!fs::is_directory(outdir, ec)) throw Error(printable_name(outdir.string()) + ": not a folder");
  fs::directory_iterator probe(outdir, ec);
  if (ec) throw Error(printable_name(outdir.string()) + ": cannot be read: " + ec.message());

  // Which runs the folder holds: shard count -> files.
  std::map<int, std::map<int, fs::path>> manifests, records;
  int k = 0, n = 0;
  for (const fs::path& m : manifest_files(outdir))
    if (shard_of(m.filename().string(), "manifest", ".jsonl", k, n)) manifests[n][k] = m;
  for (const fs::path& r : run_record_files(outdir))
    if (shard_of(r.filename().string(), "run", ".json", k, n)) records[n][k] = r;
  std::set<int> counts;
  for (const auto& [c, files] : manifests) counts.insert(c);
  for (const auto& [c, files] : records) counts.insert(c);

  FolderStatus f;
  f.outdir = outdir;
  if (shard_count > 0) {
    f.shard_count = shard_count;
  } else if (counts.empty()) {
    throw Error(printable_name(outdir.string()) +
                ": no manifest*.jsonl or run*.json: no shard has started here (--shard-count N lists the shards "
                "of a run not started)");
  } else if (counts.size() > 1) {
    std::string list;
    for (int c : counts) list += (list.empty() ? "" : ", ") + std::to_string(c);
    throw Error(printable_name(outdir.string()) + " holds runs of " + list + " shards: say which with --shard-count N");
  } else {
    f.shard_count = *counts.begin();
  }
  for (int c : counts)
    if (c != f.shard_count) f.other_counts.push_back(c);

  const fs::path prov_file = outdir / "provenance.json";
  std::string reference;
  if (fs::is_regular_file(prov_file, ec)) {
    reference = read_text(prov_file);
    f.provenance_reference = "provenance.json";
  }
  for (int i = 0; i < f.shard_count; ++i) {
    ShardStatus s;
    s.index = i;
    if (auto r = records[f.shard_count].find(i); r != records[f.shard_count].end()) {
      try {
        s.record = read_run_record(r->second);
      } catch (const Error& e) {
        s.record_error = e.what();
      }
    }
    if (auto m = manifests[f.shard_count].find(i); m != manifests[f.shard_count].end()) {
      s.has_manifest = true;
      read_manifest(m->second, s);
    } else if (s.record) {
      s.missing = s.record->planned.size();
      for (size_t j = 0; j < s.record->planned.size() && j < kExamples; ++j) s.missing_examples.push_back(s.record->planned[j]);
    }
    if (s.record) s.planned = s.record->planned.size();
    if (s.record && reference.empty()) {
      reference = s.record->provenance;
      f.provenance_reference = "shard " + std::to_string(i) + "'s record";
    } else if (s.record) {
      s.provenance_difference = provenance_difference(reference, s.record->provenance);
    }
    s.state = state_of(s);
    if (!s.provenance_difference.empty() && s.state != ShardStatus::State::running) s.state = ShardStatus::State::other_pipeline;
    f.shards.push_back(std::move(s));
  }
  return f;
}

std::vector<std::string> rerun_command(const FolderStatus& f, const ShardStatus& s) {
  auto usable = [](const ShardStatus& o) { return o.record && !o.record->command.empty(); };
  const RunRecord* model = usable(s) && s.provenance_difference.empty() ? &*s.record : nullptr;
  for (const ShardStatus& o : f.shards)
    if (!model && usable(o) && o.provenance_difference.empty()) model = &*o.record;
  if (!model && usable(s)) model = &*s.record;
  if (!model) return {};
  std::error_code ec;
  const fs::path here = fs::weakly_canonical(fs::absolute(f.outdir, ec), ec);
  std::vector<std::string> cmd;
  const std::vector<std::string>& c = model->command;
  for (size_t i = 0; i < c.size(); ++i) {
    const std::string& a = c[i];
    if (a == "--shard" || a == "--shard-count") {
      ++i;  // and its value
      continue;
    }
    if (a.rfind("--shard=", 0) == 0 || a.rfind("--shard-count=", 0) == 0 || a == "--resume" || a == "--overwrite") continue;
    if ((a == "-o" || a == "--output") && i + 1 < c.size()) {
      // Into this folder, wherever the model shard wrote.
      const fs::path there = fs::weakly_canonical(fs::path(model->cwd) / c[i + 1], ec);
      cmd.push_back(a);
      cmd.push_back(there == here ? c[i + 1] : here.string());
      ++i;
      continue;
    }
    cmd.push_back(a);
  }
  if (f.shard_count > 1) {
    cmd.push_back("--shard");
    cmd.push_back(std::to_string(s.index) + "/" + std::to_string(f.shard_count));
  }
  // Outputs of another pipeline pass --resume's checks (their lines are
  // true of them): only --overwrite redoes them.
  cmd.push_back(s.provenance_difference.empty() ? "--resume" : "--overwrite");
  return cmd;
}

}  // namespace featpipe::cli
