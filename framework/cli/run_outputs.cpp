// Reading a run folder's outputs back (see run_outputs.hpp).
#include "run_outputs.hpp"

#include <featpipe/featpipe.hpp>
#include <featpipe/kaldi_io.hpp>
#include <featpipe/npy.hpp>
#include <featpipe/runner.hpp>

#include <nlohmann/json.hpp>
#include <xxhash.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>
#include <set>
#include <sstream>

namespace fs = std::filesystem;

namespace featpipe::cli {
namespace {

struct Line {
  std::string status, input, output, utt_id, error, xxh3;
  std::vector<int64_t> shape;
  std::vector<std::string> axes;
  int64_t bytes = -1;
};

// A name that is not UTF-8 is stored as base64 beside its U+FFFD form;
// only the bytes find the file.
std::optional<std::string> unbase64(const std::string& s) {
  static const std::string abc = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : s) {
    if (c == '=') break;
    const size_t v = abc.find(c);
    if (v == std::string::npos) return std::nullopt;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xff);
    }
  }
  return out;
}

std::optional<Line> parse_line(const std::string& text) {
  const nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("output") || !j["output"].is_string() || !j.contains("status") ||
      !j["status"].is_string())
    return std::nullopt;
  Line l;
  auto text_of = [&](const char* key, std::string& field) {
    if (j.contains(key) && j[key].is_string()) field = j[key].get<std::string>();
  };
  text_of("status", l.status);
  text_of("input", l.input);
  text_of("output", l.output);
  text_of("utt_id", l.utt_id);
  text_of("error", l.error);
  text_of("output_xxh3", l.xxh3);
  if (l.status != "ok" && l.status != "skipped" && l.status != "error" && l.status != "not_taken") return std::nullopt;
  for (auto [key, field] : {std::pair{"input_b64", &l.input}, std::pair{"output_b64", &l.output}})
    if (j.contains(key) && j[key].is_string())
      if (auto bytes = unbase64(j[key].get<std::string>())) *field = *bytes;
  if (j.contains("output_bytes") && j["output_bytes"].is_number_integer()) l.bytes = j["output_bytes"].get<int64_t>();
  if (j.contains("shape") && j["shape"].is_array())
    for (const auto& d : j["shape"])
      if (d.is_number_integer()) l.shape.push_back(d.get<int64_t>());
  if (j.contains("axes") && j["axes"].is_array())
    for (const auto& a : j["axes"])
      if (a.is_string()) l.axes.push_back(a.get<std::string>());
  return l;
}

std::string key_of(const Line& l) {
  if (!l.utt_id.empty()) return l.utt_id;
  if (const size_t at = l.output.find(".ark#"); at != std::string::npos) return l.output.substr(at + 5);
  const std::string ext = ".npy";
  if (l.output.size() > ext.size() && l.output.compare(l.output.size() - ext.size(), ext.size(), ext) == 0)
    return l.output.substr(0, l.output.size() - ext.size());
  return l.output;
}

std::string xxh3_hex(const std::string& bytes) {
  XXH64_canonical_t c;
  XXH64_canonicalFromHash(&c, XXH3_64bits(bytes.data(), bytes.size()));
  static const char* hex = "0123456789abcdef";
  std::string s;
  for (unsigned char b : c.digest) s += hex[b >> 4], s += hex[b & 15];
  return s;
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
  if (!out.xxh3.empty() && xxh3_hex(bytes) != out.xxh3) damaged(out, "damaged: its bytes differ from what the run wrote (XXH3)");
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
  std::vector<fs::path> manifests;
  for (const auto& f : fs::directory_iterator(outdir, ec)) {
    const std::string name = f.path().filename().string();
    std::error_code type_ec;
    if (name.rfind("manifest", 0) == 0 && f.path().extension() == ".jsonl" && f.is_regular_file(type_ec))
      manifests.push_back(f.path());
  }
  if (ec) throw Error(printable_name(outdir.string()) + ": cannot be listed: " + ec.message());
  if (manifests.empty())
    throw Error(printable_name(outdir.string()) + ": no manifest*.jsonl: not a folder written by featpipe run");
  std::sort(manifests.begin(), manifests.end());

  struct Slot {
    Line last;
    std::optional<Line> last_ok;
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
      auto l = parse_line(text);
      if (!l) {
        r.torn.push_back(m.filename().string() + ":" + std::to_string(n));
        continue;
      }
      if (l->status == "not_taken" || l->output.empty()) {
        if (l->status == "error") r.failed.push_back({l->input, l->error});
        else not_taken.insert(l->input);
        continue;
      }
      auto [it, fresh] = slots.try_emplace(l->output);
      if (fresh) order.push_back(l->output);
      if (l->status == "ok") it->second.last_ok = *l;
      it->second.last = std::move(*l);
    }
    if (is.bad()) throw Error(printable_name(m.string()) + ": cannot be read");
  }
  r.not_taken = not_taken.size();
  for (const std::string& output : order) {
    const Slot& s = slots[output];
    if (s.last.status == "error") {
      r.failed.push_back({s.last.input, s.last.error});
      continue;
    }
    // ok, or skipped: the ok line before it describes the output.
    const Line& l = s.last.status == "ok" || !s.last_ok ? s.last : *s.last_ok;
    RunOutput o;
    o.outdir = outdir;
    o.output = output;
    o.key = key_of(s.last);
    if (l.status == "ok") {
      o.shape = l.shape;
      o.axes = l.axes;
      o.bytes = l.bytes;
      o.xxh3 = l.xxh3;
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
