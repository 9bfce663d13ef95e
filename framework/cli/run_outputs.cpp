// Reading a run folder's outputs back (see run_outputs.hpp).
#include "run_outputs.hpp"

// The engine's own manifest parts, compiled into the CLI (the library hides
// them): the same line format, names and digests as `run` writes.
#include "batch/atomic_file.hpp"
#include "batch/manifest.hpp"
#include "batch/manifest_entry.hpp"

#include <featpipe/featpipe.hpp>
#include <featpipe/kaldi_io.hpp>
#include <featpipe/npy.hpp>
#include <featpipe/runner.hpp>


#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>
#include <set>
#include <sstream>

namespace fs = std::filesystem;

namespace featpipe::cli {
namespace {

// The output's key: the utterance id, else the ark key, else the output
// without ".npy" (the order Kaldi's sorted feats.scp gives).
std::string key_of(const ManifestEntry& l) {
  if (!l.utt_id.empty()) return l.utt_id;
  if (const size_t at = l.output.find(".ark#"); at != std::string::npos) return l.output.substr(at + 5);
  const std::string ext = ".npy";
  if (l.output.size() > ext.size() && l.output.compare(l.output.size() - ext.size(), ext.size(), ext) == 0)
    return l.output.substr(0, l.output.size() - ext.size());
  return l.output;
}

std::string shape_text(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t k = 0; k < shape.size(); ++k) s += (k ? ", " : "") + std::to_string(shape[k]);
  return s + "]";
}

[[noreturn]] void damaged(const RunOutput& out, const std::string& what) {
  throw Error(printable_name(out.name()) + ": " + what);
}

// The stored bytes against the ok line that recorded them.
void check_recorded(const RunOutput& out, const std::string& bytes) {
  if (out.bytes >= 0 && static_cast<int64_t>(bytes.size()) != out.bytes)
    damaged(out, "damaged: " + std::to_string(bytes.size()) + " bytes, the run wrote " + std::to_string(out.bytes));
  if (!out.xxh3.empty() && bytes_xxh3(bytes) != out.xxh3) damaged(out, "damaged: its bytes differ from what the run wrote (XXH3)");
}

std::string read_file(const fs::path& file, const RunOutput& out) {
  std::ifstream is(file, std::ios::binary | std::ios::ate);
  if (!is) damaged(out, std::string("cannot be read: ") + std::strerror(errno));
  const std::streamoff size = is.tellg();
  std::string b(size > 0 ? static_cast<size_t>(size) : 0, '\0');
  if (size < 0 || !is.seekg(0) || !is.read(b.data(), static_cast<std::streamsize>(b.size()))) damaged(out, "cannot be read");
  return b;
}

}  // namespace

std::string RunOutput::name() const { return (outdir / output).string(); }

RunListing list_run(const fs::path& outdir) {
  std::error_code ec;
  if (!fs::is_directory(outdir, ec)) throw Error(printable_name(outdir.string()) + ": not a folder");
  std::vector<fs::path> manifests = manifest_files(outdir);
  if (manifests.empty())
    throw Error(printable_name(outdir.string()) + ": no manifest*.jsonl: not a folder written by featpipe run");
  std::sort(manifests.begin(), manifests.end());

  using Status = ManifestEntry::Status;
  struct Slot {
    ManifestEntry last;
    std::optional<ManifestEntry> last_ok;
  };
  std::map<std::string, Slot> slots;  // by output
  std::vector<std::string> order;     // outputs as first seen
  std::set<std::string> not_taken;
  RunListing r;
  for (const fs::path& m : manifests) {
    std::ifstream is(m);
    if (!is) throw Error(printable_name(m.string()) + ": cannot be read");
    size_t n = 0;
    for (std::string text; std::getline(is, text);) {
      ++n;
      if (text.find_first_not_of(" \t\r") == std::string::npos) continue;
      auto l = ManifestEntry::parse(text);
      if (!l) {
        r.torn.push_back(m.filename().string() + ":" + std::to_string(n));
        continue;
      }
      if (l->status == Status::not_taken || l->output.empty()) {
        if (l->status == Status::error) r.failed.push_back({l->input, l->error});
        else not_taken.insert(l->input);
        continue;
      }
      auto [it, fresh] = slots.try_emplace(l->output);
      if (fresh) order.push_back(l->output);
      if (l->status == Status::ok) it->second.last_ok = *l;
      it->second.last = std::move(*l);
    }
    if (is.bad()) throw Error(printable_name(m.string()) + ": cannot be read");
  }
  r.not_taken = not_taken.size();
  for (const std::string& output : order) {
    const Slot& s = slots[output];
    if (s.last.status == Status::error) {
      r.failed.push_back({s.last.input, s.last.error});
      continue;
    }
    // ok, or skipped: the ok line before it describes the output.
    const ManifestEntry& l = s.last.status == Status::ok || !s.last_ok ? s.last : *s.last_ok;
    RunOutput o;
    o.outdir = outdir;
    o.output = output;
    o.key = key_of(s.last);
    if (l.status == Status::ok) {
      o.shape = l.shape;
      o.axes = l.axes;
      o.bytes = l.output_bytes;
      o.xxh3 = l.output_xxh3;
    }
    r.outputs.push_back(std::move(o));
  }
  std::sort(r.outputs.begin(), r.outputs.end(),
            [](const RunOutput& a, const RunOutput& b) { return a.key != b.key ? a.key < b.key : a.output < b.output; });
  return r;
}

struct OutputReader::Archive {
  struct Entry {
    int64_t offset = 0, bytes = 0;
  };
  std::ifstream is;
  std::map<std::string, Entry> index;
  std::string error;  // why the walk stopped early ("" when it reached the end)
};

OutputReader::OutputReader() = default;
OutputReader::~OutputReader() = default;

OutputReader::Archive& OutputReader::archive(const fs::path& file) {
  auto& a = archives_[file];
  if (a) return *a;
  a = std::make_unique<Archive>();
  a->is.open(file, std::ios::binary);
  if (!a->is) {
    a->error = std::string("cannot be read: ") + std::strerror(errno);
    return *a;
  }
  kaldi::ArkReader walk(a->is);
  std::string key;
  int64_t offset = 0, rows = 0, cols = 0;
  try {
    while (walk.skip(key, offset, rows, cols))
      a->index[key] = {offset, static_cast<int64_t>(a->is.tellg()) - offset};
  } catch (const std::exception& e) {
    a->error = std::string("damaged after ") + std::to_string(a->index.size()) + " entries: " + e.what();
  }
  a->is.clear();
  return *a;
}

Features OutputReader::read(const RunOutput& out) {
  Features f;
  const size_t at = out.output.find(".ark#");
  if (at == std::string::npos) {
    const std::string bytes = read_file(out.outdir / out.output, out);
    check_recorded(out, bytes);
    try {
      std::istringstream is(bytes);
      npy::Array a = npy::read(is);
      f.shape = std::move(a.shape);
      f.data = std::move(a.data);
    } catch (const std::exception& e) {
      damaged(out, std::string("damaged: ") + e.what());
    }
    if (!out.shape.empty() && f.shape != out.shape)
      damaged(out, "holds " + shape_text(f.shape) + ", the manifest records " + shape_text(out.shape));
    return f;
  }
  const fs::path file = out.outdir / out.output.substr(0, at + 4);
  const std::string key = out.output.substr(at + 5);
  Archive& a = archive(file);
  // Matrices still staged beside the archive: a run that did not finish
  // merging, which explains an entry missing or older than its line.
  std::string staging = ".";  // appended, not "." + string: GCC 12 warns falsely (-Wrestrict, PR105651)
  staging += file.filename().string();
  staging += ".parts";
  std::error_code ec;
  const std::string hint =
      fs::is_directory(out.outdir / staging, ec) && !fs::is_empty(out.outdir / staging, ec)
          ? " (matrices are still staged beside it: the run did not finish; featpipe run --resume merges them)"
          : "";
  auto it = a.index.find(key);
  if (it == a.index.end()) {
    if (!a.error.empty()) damaged(out, printable_name(file.filename().string()) + " " + a.error + hint);
    damaged(out, "no such entry in " + printable_name(file.filename().string()) + hint);
  }
  std::string bytes(static_cast<size_t>(it->second.bytes), '\0');
  a.is.clear();
  if (!a.is.seekg(it->second.offset) || !a.is.read(bytes.data(), static_cast<std::streamsize>(bytes.size())))
    damaged(out, "cannot be read from " + printable_name(file.filename().string()));
  try {
    check_recorded(out, bytes);
  } catch (const Error& e) {
    throw Error(e.what() + hint);
  }
  kaldi::Matrix m;
  try {
    std::istringstream is(bytes);
    m = kaldi::read_matrix(is);
  } catch (const std::exception& e) {
    damaged(out, std::string("damaged: ") + e.what());
  }
  f.shape = {m.rows, m.cols};
  f.data = std::move(m.data);
  if (!out.shape.empty()) {
    // Kaldi has no 0 x N matrix: an empty one is stored 0 x 0.
    std::vector<int64_t> want = out.shape;
    if (want.size() == 2 && (want[0] == 0 || want[1] == 0)) want = {0, 0};
    if (f.shape != want) damaged(out, "holds " + shape_text(f.shape) + ", the manifest records " + shape_text(out.shape));
  }
  return f;
}

}  // namespace featpipe::cli
