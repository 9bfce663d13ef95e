// `featpipe run`: inputs → workers (one session each) → .npy + manifest.
#include <featpipe/npy.hpp>
#include <featpipe/runner.hpp>

#include "inputs.hpp"
#include "manifest.hpp"
#include "util.hpp"

#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <thread>

namespace fs = std::filesystem;

namespace featpipe {

namespace {

// Written to a temporary name in the same folder, then renamed: a killed run
// never leaves a truncated file under the final name.
void write_atomic(const fs::path& out, const std::function<void(std::ostream&)>& body, int worker) {
  std::error_code ec;
  fs::create_directories(out.parent_path(), ec);
  if (ec) throw Error("cannot create folder " + out.parent_path().string() + ": " + ec.message());
  const fs::path tmp = out.parent_path() / ("." + out.filename().string() + ".tmp-" + std::to_string(getpid()) + "-" +
                                            std::to_string(worker));
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

}  // namespace

void parse_shard(const std::string& text, int count_option, int& index, int& count) {
  auto to_int = [&](const std::string& s, const char* what) {
    char* end = nullptr;
    long v = std::strtol(s.c_str(), &end, 10);
    if (s.empty() || *end) throw Error(std::string("--shard: ") + what + " '" + s + "' is not an integer");
    return static_cast<int>(v);
  };
  if (text == "auto") {
    if (const char* id = std::getenv("SLURM_ARRAY_TASK_ID")) {
      const char* n = std::getenv("SLURM_ARRAY_TASK_COUNT");
      if (!n) throw Error("--shard auto: SLURM_ARRAY_TASK_ID is set but SLURM_ARRAY_TASK_COUNT is not");
      const char* min = std::getenv("SLURM_ARRAY_TASK_MIN");  // arrays may start at 1
      index = to_int(id, "SLURM_ARRAY_TASK_ID") - (min ? to_int(min, "SLURM_ARRAY_TASK_MIN") : 0);
      count = to_int(n, "SLURM_ARRAY_TASK_COUNT");
    } else if (const char* k = std::getenv("JOB_COMPLETION_INDEX")) {
      if (count_option <= 0) throw Error("--shard auto: a Kubernetes indexed job needs --shard-count N (its completions)");
      index = to_int(k, "JOB_COMPLETION_INDEX");
      count = count_option;
    } else {
      throw Error("--shard auto: neither a Slurm array job (SLURM_ARRAY_TASK_ID) nor a Kubernetes indexed job "
                  "(JOB_COMPLETION_INDEX) is visible");
    }
  } else {
    size_t slash = text.find('/');
    if (slash == std::string::npos) throw Error("--shard takes K/N (e.g. 0/4) or auto, got '" + text + "'");
    index = to_int(text.substr(0, slash), "K");
    count = to_int(text.substr(slash + 1), "N");
  }
  if (count < 1 || index < 0 || index >= count)
    throw Error("--shard: need 0 <= K < N, got K=" + std::to_string(index) + " N=" + std::to_string(count));
}

RunProgress run_batch(const Pipeline& pipe, const RunOptions& o) {
  if (!pipe.has_source()) throw Error(pipe.file() + ": the first step takes a tensor; `run` needs one that reads files");
  if (o.jobs < 1) throw Error("-j must be at least 1");
  InputList list = list_inputs(o.inputs, pipe.extensions());
  keep_shard(list, o.shard_index, o.shard_count);

  const fs::path outdir = o.outdir;
  std::error_code ec;
  fs::create_directories(outdir, ec);
  if (ec || !fs::is_directory(outdir)) throw Error(o.outdir + ": cannot create the output folder" + (ec ? ": " + ec.message() : ""));
  if (::access(outdir.c_str(), W_OK) != 0) throw Error(o.outdir + ": the output folder is not writable");
  write_provenance(pipe, outdir, o.overwrite);
  const std::string manifest_name = o.shard_count > 1 ? "manifest-" + std::to_string(o.shard_index) + "-of-" +
                                                            std::to_string(o.shard_count) + ".jsonl"
                                                      : "manifest.jsonl";
  const std::map<std::string, bool> done = o.resume ? read_done(o.outdir) : std::map<std::string, bool>{};
  Manifest manifest((outdir / manifest_name).string());

  // Two inputs that would write the same output: the later ones fail.
  std::map<std::string, size_t> first_of;
  std::vector<std::string> collides(list.files.size());
  for (size_t k = 0; k < list.files.size(); ++k) {
    auto [it, fresh] = first_of.emplace(list.files[k].rel, k);
    if (!fresh) collides[k] = list.files[it->second].path;
  }

  const int workers = std::max(1, std::min<int>(o.jobs, static_cast<int>(list.files.size())));
  std::vector<std::unique_ptr<Session>> sessions;
  for (int w = 0; w < workers; ++w) sessions.push_back(pipe.session());

  RunProgress prog;
  prog.total = list.files.size();
  prog.not_taken = list.not_taken;
  std::mutex mu;  // guards prog
  std::atomic<size_t> next{0};
  const auto t_start = std::chrono::steady_clock::now();
  auto elapsed = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count(); };
  auto report_error = o.on_error ? o.on_error : [](const std::string& in, const std::string& msg) {
    std::cerr << "error: " << in << ": " << msg << "\n";
  };

  auto work = [&](int w) {
    Session& session = *sessions[w];
    for (size_t k; (k = next.fetch_add(1)) < list.files.size();) {
      const InputFile& f = list.files[k];
      const std::string out_rel = f.rel + ".npy";
      const fs::path out = outdir / out_rel;
      const auto t0 = std::chrono::steady_clock::now();
      nlohmann::json entry = {{"input", f.path}, {"output", out_rel}};
      std::string status = "ok", error;
      double media = 0;
      try {
        std::error_code e;
        if (!collides[k].empty()) {
          throw Error("its output " + out_rel + " is also that of " + collides[k] + " (same relative path)");
        } else if (fs::exists(out, e)) {
          auto it = done.find(out_rel);
          if (o.resume && it != done.end() && it->second) status = "skipped";
          else if (!o.resume && !o.overwrite)
            throw Error("output " + out.string() + " exists (use --resume to skip finished inputs or --overwrite)");
        }
        if (status == "ok") {
          Tensor t = session.run_file(f.path);
          media = session.last_media_seconds();
          write_atomic(out, [&](std::ostream& os) { npy::write(os, t.shape, t.data.data()); }, w);
          entry["shape"] = t.shape;
          entry["axes"] = t.axes;
        }
      } catch (const std::bad_alloc&) {
        status = "error";
        error = "out of memory";
      } catch (const std::exception& e) {
        status = "error";
        error = e.what();
      }
      entry["status"] = status;
      entry["error"] = error.empty() ? nlohmann::json(nullptr) : nlohmann::json(error);
      entry["seconds"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      if (status == "error") report_error(f.path, error);
      try {
        manifest.append(entry);
      } catch (const std::exception& e) {
        report_error(f.path, e.what());
      }
      std::lock_guard<std::mutex> lock(mu);
      ++prog.done;
      if (status == "ok") ++prog.ok;
      else if (status == "skipped") ++prog.skipped;
      else ++prog.failed;
      prog.media_seconds += media;
    }
  };

  std::mutex stop_mu;
  std::condition_variable stop_cv;
  bool stop = false;
  std::thread monitor;
  if (o.on_progress) {
    monitor = std::thread([&] {
      std::unique_lock<std::mutex> lock(stop_mu);
      while (!stop_cv.wait_for(lock, std::chrono::duration<double>(o.progress_interval), [&] { return stop; })) {
        RunProgress snap;
        {
          std::lock_guard<std::mutex> g(mu);
          snap = prog;
        }
        snap.elapsed = elapsed();
        o.on_progress(snap);
      }
    });
  }
  std::vector<std::thread> threads;
  for (int w = 1; w < workers; ++w) threads.emplace_back(work, w);
  work(0);
  for (auto& t : threads) t.join();
  {
    std::lock_guard<std::mutex> lock(stop_mu);
    stop = true;
  }
  stop_cv.notify_all();
  if (monitor.joinable()) monitor.join();

  prog.elapsed = elapsed();
  prog.finished = true;
  if (o.on_progress) o.on_progress(prog);
  return prog;
}

}  // namespace featpipe
