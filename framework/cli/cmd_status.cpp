// featpipe status OUTDIR [--json] [--shard-count N]
// Whether every shard of a run into OUTDIR finished, and what to rerun: per
// shard done / failed (reasons grouped) / not taken / missing, and whether
// the shards ran the same pipeline and plugins.
//
// Exit status: 0 every shard complete, every input ok, one provenance;
// 1 something failed, is missing, unfinished or of another pipeline;
// 2 usage error or a folder that cannot be read.
#include "commands.hpp"
#include "options.hpp"
#include "shard_status.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <map>

namespace fs = std::filesystem;
using nlohmann::json;

namespace featpipe::cli {

namespace {

struct Args {
  std::string outdir;
  bool json = false;
  int shard_count = 0;
};

std::string shell_quote(const std::string& a) {
  const bool plain = !a.empty() && a.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                                       "0123456789_./:=,@%+-") == std::string::npos;
  if (plain) return a;
  std::string q = "'";
  for (char c : a) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

std::string command_text(const FolderStatus& f, const ShardStatus& s) {
  const std::vector<std::string> cmd = rerun_command(f, s);
  if (cmd.empty()) {
    return "featpipe run PIPELINE INPUT... -o " + shell_quote(f.outdir.string()) +
           (f.shard_count > 1 ? " --shard " + std::to_string(s.index) + "/" + std::to_string(f.shard_count) : "") +
           (s.provenance_difference.empty() ? " --resume" : " --overwrite") + "   (with the run's other options)";
  }
  std::string text;
  // The recorded command's relative paths are the shard's working folder's.
  const RunRecord* r = s.record ? &*s.record : nullptr;
  for (const ShardStatus& o : f.shards)
    if (!r && o.record) r = &*o.record;
  std::error_code ec;
  if (r && !r->cwd.empty() && fs::path(r->cwd) != fs::current_path(ec)) text = "cd " + shell_quote(r->cwd) + " && ";
  for (size_t i = 0; i < cmd.size(); ++i) text += (i ? " " : "") + shell_quote(cmd[i]);
  return text;
}

std::string shard_name(const FolderStatus& f, const ShardStatus& s) {
  return std::to_string(s.index) + "/" + std::to_string(f.shard_count);
}

std::string count_or_dash(const std::optional<size_t>& n) { return n ? std::to_string(*n) : "-"; }

void print_table(const FolderStatus& f, std::ostream& os) {
  const std::vector<std::string> head = {"shard", "state", "planned", "done", "failed", "missing", "not taken", "host", "started", "ended"};
  std::vector<std::vector<std::string>> rows = {head};
  for (const ShardStatus& s : f.shards) {
    const bool seen = s.record || s.has_manifest;
    rows.push_back({shard_name(f, s), to_string(s.state), count_or_dash(s.planned), seen ? std::to_string(s.done) : "-",
                    seen ? std::to_string(s.failed) : "-", count_or_dash(s.missing),
                    seen ? std::to_string(s.not_taken) : "-", s.record ? s.record->host : "",
                    s.record ? s.record->started : "", s.record ? s.record->ended : ""});
  }
  std::vector<size_t> width(head.size(), 0);
  for (const auto& r : rows)
    for (size_t c = 0; c < r.size(); ++c) width[c] = std::max(width[c], r[c].size());
  for (const auto& r : rows) {
    std::string line;
    for (size_t c = 0; c < r.size(); ++c) {
      const bool number = c >= 2 && c <= 6;  // right-aligned
      const std::string pad(width[c] - r[c].size(), ' ');
      line += (c ? "  " : "") + (number ? pad + r[c] : r[c] + (c + 1 < r.size() ? pad : ""));
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    os << line << "\n";
  }
}

std::string examples_text(const std::vector<std::string>& names, size_t total) {
  std::string t;
  for (const auto& n : names) t += (t.empty() ? "" : ", ") + printable_name(n);
  return t + (total > names.size() ? ", ..." : "");
}

// Why a shard is not complete, in a few words.
std::string why_text(const ShardStatus& s) {
  std::string t = to_string(s.state);
  if (s.missing && *s.missing) t += ", " + count_text(*s.missing, "input") + " missing";
  if (s.failed) t += ", " + count_text(s.failed, "input") + " failed (fix them first, or they fail again)";
  if (s.state == ShardStatus::State::unfinished) t += " on " + s.record->host + ": rerun once its job there has ended";
  if (s.state == ShardStatus::State::other_pipeline) t += ": redone whole with the folder's pipeline";
  return t;
}

void print_text(const FolderStatus& f, std::ostream& os) {
  size_t complete = 0, to_rerun = 0;
  for (const ShardStatus& s : f.shards) (s.ok() ? complete : to_rerun) += 1;
  os << printable_name(f.outdir.string()) << ": " << count_text(f.shard_count, "shard") << ", " << complete << " complete\n";
  print_table(f, os);
  for (int c : f.other_counts)
    os << "note: the folder also holds a run of " << count_text(static_cast<size_t>(c), "shard") << " (not shown: --shard-count " << c << ")\n";

  // Provenance: one pipeline and set of plugins across the shards?
  size_t with_record = 0, differing = 0;
  for (const ShardStatus& s : f.shards) {
    with_record += s.record ? 1 : 0;
    differing += s.provenance_difference.empty() ? 0 : 1;
  }
  if (!differing && with_record)
    os << "provenance: the " << count_text(with_record, "shard") << " with a record ran one pipeline and plugins"
       << (f.provenance_reference == "provenance.json" ? " (provenance.json's)" : "") << "\n";
  for (const ShardStatus& s : f.shards)
    if (!s.provenance_difference.empty())
      os << "provenance: shard " << shard_name(f, s) << (s.record->host.empty() ? "" : " (" + s.record->host + ")")
         << " ran another pipeline than " << f.provenance_reference << ": " << s.provenance_difference << "\n";
  for (const ShardStatus& s : f.shards) {
    if (!s.record_error.empty()) os << "shard " << shard_name(f, s) << ": " << s.record_error << "\n";
    if (s.state == ShardStatus::State::no_record)
      os << "shard " << shard_name(f, s) << ": a manifest without a run record (written by an older featpipe, or the "
         << "record removed): what it planned is unknown\n";
    if (s.torn) os << "shard " << shard_name(f, s) << ": " << count_text(s.torn, "torn manifest line") << " (a kill mid-line): ignored\n";
  }

  // One reason across shards reads as one line.
  struct Group {
    size_t count = 0;
    std::vector<std::string> examples, shards;
  };
  std::map<std::string, Group> groups;
  std::vector<std::string> order;
  for (const ShardStatus& s : f.shards)
    for (const ErrorGroup& g : s.errors) {
      auto [it, fresh] = groups.try_emplace(g.reason);
      if (fresh) order.push_back(g.reason);
      it->second.count += g.count;
      it->second.shards.push_back(std::to_string(s.index));
      for (const auto& e : g.examples)
        if (it->second.examples.size() < 3) it->second.examples.push_back(e);
    }
  std::stable_sort(order.begin(), order.end(), [&](const std::string& a, const std::string& b) { return groups[a].count > groups[b].count; });
  for (const std::string& reason : order) {
    const Group& g = groups[reason];
    std::string shards;
    for (const auto& k : g.shards) shards += (shards.empty() ? "" : ", ") + k;
    os << "failed: " << g.count << " x " << printable_name(reason) << "\n    in shard" << (g.shards.size() > 1 ? "s " : " ")
       << shards << ", e.g. " << examples_text(g.examples, g.count) << "\n";
  }
  for (const ShardStatus& s : f.shards)
    if (s.missing && *s.missing)
      os << "missing in shard " << shard_name(f, s) << ": " << count_text(*s.missing, "input") << " without a manifest line, e.g. "
         << examples_text(s.missing_examples, *s.missing) << "\n";

  if (!to_rerun) {
    os << "complete: every input of the " << count_text(f.shard_count, "shard") << " is done\n";
    return;
  }
  os << "not complete: " << to_rerun << " of " << count_text(f.shard_count, "shard") << " to finish:\n";
  for (const ShardStatus& s : f.shards) {
    if (s.ok()) continue;
    if (s.state == ShardStatus::State::running) {
      os << "  shard " << shard_name(f, s) << ": still running (pid " << s.record->pid << " on " << s.record->host << ")\n";
      continue;
    }
    os << "  shard " << shard_name(f, s) << ": " << why_text(s) << "\n    " << command_text(f, s) << "\n";
  }
}

json to_json(const FolderStatus& f) {
  json shards = json::array();
  std::vector<int> rerun;
  for (const ShardStatus& s : f.shards) {
    json j = {{"shard", s.index},
              {"state", to_string(s.state)},
              {"ok", s.ok()},
              {"planned", s.planned ? json(*s.planned) : json(nullptr)},
              {"done", s.done},
              {"failed", s.failed},
              {"missing", s.missing ? json(*s.missing) : json(nullptr)},
              {"not_taken", s.not_taken},
              {"unplanned_lines", s.unplanned},
              {"torn_lines", s.torn},
              {"missing_examples", s.missing_examples},
              {"provenance_difference", s.provenance_difference.empty() ? json(nullptr) : json(s.provenance_difference)}};
    json errors = json::array();
    for (const ErrorGroup& g : s.errors) errors.push_back({{"reason", g.reason}, {"count", g.count}, {"examples", g.examples}});
    j["errors"] = errors;
    if (s.record) {
      j["host"] = s.record->host;
      j["pid"] = s.record->pid;
      j["started"] = s.record->started;
      j["ended"] = s.record->ended.empty() ? json(nullptr) : json(s.record->ended);
    }
    if (!s.record_error.empty()) j["record_error"] = s.record_error;
    if (!s.ok()) {
      rerun.push_back(s.index);
      j["rerun"] = rerun_command(f, s);
    }
    shards.push_back(std::move(j));
  }
  bool same = true;
  for (const ShardStatus& s : f.shards) same = same && s.provenance_difference.empty();
  return {{"outdir", f.outdir.string()},
          {"shard_count", f.shard_count},
          {"complete", f.complete()},
          {"same_provenance", same},
          {"provenance_reference", f.provenance_reference},
          {"other_shard_counts", f.other_counts},
          {"rerun_shards", rerun},
          {"shards", shards}};
}

int run(const Args& a) {
  const FolderStatus f = folder_status(a.outdir, a.shard_count);
  if (a.json) std::cout << to_json(f).dump(1, ' ', false, json::error_handler_t::replace) << "\n";
  else print_text(f, std::cout);
  return f.complete() ? 0 : 1;
}

}  // namespace

Action add_status(CLI::App& app) {
  auto a = std::make_shared<Args>();
  CLI::App* c = app.add_subcommand(
      "status", "whether every shard of a run finished: per shard done, failed (why), missing, and one provenance");
  c->add_option("outdir", a->outdir, "output folder of featpipe run (its manifest*.jsonl and run*.json)")->required();
  c->add_flag("--json", a->json, "the same for scripts");
  c->add_option("--shard-count", a->shard_count,
                "N of the run's --shard K/N: lists shards that never started (default: from the shards present)")
      ->check(whole_number(1, 1000000));
  return [a] { return run(*a); };
}

}  // namespace featpipe::cli
