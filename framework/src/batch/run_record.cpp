#include "run_record.hpp"

#include "atomic_file.hpp"
#include "manifest.hpp"

#include <featpipe/featpipe.hpp>

#include <nlohmann/json.hpp>

#include <unistd.h>

#include <ctime>
#include <fstream>
#include <sstream>

namespace fs = std::filesystem;
using nlohmann::json;

namespace featpipe {

namespace {
// Names are bytes; a record is JSON: a name that is not UTF-8 is written with
// U+FFFD, as a manifest line's "input" is (status compares them so).
constexpr auto kReplace = json::error_handler_t::replace;
constexpr int kFormat = 1;
}  // namespace

std::string run_record_name(int shard_index, int shard_count) {
  if (shard_count <= 1) return "run.json";
  return "run-" + std::to_string(shard_index) + "-of-" + std::to_string(shard_count) + ".json";
}

std::vector<fs::path> run_record_files(const fs::path& outdir) { return files_named(outdir, "run", ".json"); }

std::string run_record_json(const RunRecord& r) {
  // Ordered: a reader by eye sees where and when first, the long list last.
  nlohmann::ordered_json j = {{"featpipe_run_record", kFormat},
            {"shard", r.shard_index},
            {"shard_count", r.shard_count},
            {"host", r.host},
            {"pid", r.pid},
            {"started", r.started},
            {"ended", r.ended.empty() ? json(nullptr) : json(r.ended)},
            {"command", r.command},
            {"cwd", r.cwd},
            {"planned", r.planned.size()},
            {"provenance", nlohmann::ordered_json::parse(r.provenance, nullptr, false)}};
  if (!r.ended.empty()) j["counts"] = {{"ok", r.ok}, {"skipped", r.skipped}, {"failed", r.failed}};
  j["inputs"] = r.planned;
  return j.dump(1, ' ', false, kReplace) + "\n";
}

RunRecord read_run_record(const fs::path& file) {
  std::ifstream is(file);
  if (!is) throw Error(file.string() + ": cannot be read");
  std::stringstream text;
  text << is.rdbuf();
  const json j = json::parse(text.str(), nullptr, false);
  auto bad = [&](const std::string& why) { return Error(file.string() + ": not a featpipe run record (" + why + ")"); };
  if (j.is_discarded() || !j.is_object()) throw bad("not JSON");
  if (!j.contains("featpipe_run_record")) throw bad("no featpipe_run_record");
  RunRecord r;
  try {
    r.shard_index = j.at("shard").get<int>();
    r.shard_count = j.at("shard_count").get<int>();
    r.planned = j.at("inputs").get<std::vector<std::string>>();
    r.provenance = j.value("provenance", json()).dump();
    r.command = j.value("command", std::vector<std::string>{});
    r.cwd = j.value("cwd", "");
    r.host = j.value("host", "");
    r.pid = j.value("pid", int64_t{0});
    r.started = j.value("started", "");
    if (j.contains("ended") && j["ended"].is_string()) r.ended = j["ended"].get<std::string>();
    if (j.contains("counts") && j["counts"].is_object()) {
      r.ok = j["counts"].value("ok", int64_t{0});
      r.skipped = j["counts"].value("skipped", int64_t{0});
      r.failed = j["counts"].value("failed", int64_t{0});
    }
  } catch (const json::exception& e) {
    throw bad(e.what());
  }
  if (r.shard_count < 1 || r.shard_index < 0 || r.shard_index >= r.shard_count) throw bad("shard out of range");
  return r;
}

std::string utc_now() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string this_host_name() {
  char buf[256] = {};
  return gethostname(buf, sizeof buf - 1) == 0 && buf[0] ? std::string(buf) : std::string("localhost");
}

RunRecorder::RunRecorder(const fs::path& outdir, RunRecord record)
    : path_(outdir / run_record_name(record.shard_index, record.shard_count)), record_(std::move(record)) {
  staged_ = temporary_path(path_, 2);
  const std::string text = run_record_json(record_);
  write_atomic(staged_, [&](std::ostream& os) { os << text; }, 0);
}

RunRecorder::~RunRecorder() {
  std::error_code ec;
  if (!staged_.empty()) fs::remove(staged_, ec);
}

void RunRecorder::place() {
  std::error_code ec;
  fs::rename(staged_, path_, ec);
  if (ec) throw Error("cannot write " + path_.string() + ": " + ec.message());
  staged_.clear();
}

void RunRecorder::finish(int64_t ok, int64_t skipped, int64_t failed) {
  record_.ended = utc_now();
  record_.ok = ok;
  record_.skipped = skipped;
  record_.failed = failed;
  const std::string text = run_record_json(record_);
  write_atomic(path_, [&](std::ostream& os) { os << text; }, 0);
}

}  // namespace featpipe
