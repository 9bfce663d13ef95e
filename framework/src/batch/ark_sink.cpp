#include "ark_sink.hpp"

#include <featpipe/kaldi_io.hpp>

#include "atomic_file.hpp"
#include "chunk_file_writer.hpp"
#include "manifest.hpp"
#include "names.hpp"
#include "npy_folder_sink.hpp"

#include <cctype>
#include <fstream>
#include <limits>
#include <sstream>

namespace fs = std::filesystem;

namespace featpipe {

namespace {

constexpr size_t kHeaderBytes = 15;  // '\0' 'B' "FM " and two sized int32s

// A key as one file name: bytes other than [A-Za-z0-9_-] as %XX (no '/',
// no leading '.', which temporary files own).
std::string encode(const std::string& key) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : key) {
    if (std::isalnum(c) || c == '_' || c == '-') out += static_cast<char>(c);
    else out += '%', out += hex[c >> 4], out += hex[c & 15];
  }
  return out;
}

std::optional<std::string> decode(const std::string& name) {
  std::string out;
  for (size_t k = 0; k < name.size(); ++k) {
    if (name[k] != '%') {
      out += name[k];
      continue;
    }
    if (k + 2 >= name.size()) return std::nullopt;
    try {
      out += static_cast<char>(std::stoi(name.substr(k + 1, 2), nullptr, 16));
    } catch (const std::exception&) {
      return std::nullopt;
    }
    k += 2;
  }
  return out;
}

std::string read_range(const fs::path& file, int64_t offset, int64_t bytes) {
  std::ifstream is(file, std::ios::binary);
  std::string s(static_cast<size_t>(bytes), '\0');
  if (!is.seekg(offset) || !is.read(s.data(), bytes)) throw Error(file.string() + ": cannot read " + std::to_string(bytes) + " bytes at " + std::to_string(offset));
  return s;
}

// The same range to `os` in blocks of 1 MB.
void copy_range(const fs::path& file, int64_t offset, int64_t bytes, std::ostream& os) {
  std::ifstream is(file, std::ios::binary);
  if (!is.seekg(offset)) throw Error(file.string() + ": cannot read at " + std::to_string(offset));
  std::vector<char> block(std::min<int64_t>(bytes, int64_t{1} << 20));
  for (int64_t left = bytes; left > 0;) {
    const auto n = static_cast<std::streamsize>(std::min<int64_t>(left, static_cast<int64_t>(block.size())));
    if (!is.read(block.data(), n))
      throw Error(file.string() + ": cannot read " + std::to_string(bytes) + " bytes at " + std::to_string(offset));
    os.write(block.data(), n);
    left -= n;
  }
}

void check_key(const std::string& key) {
  if (key.find_first_of(" \t\n\r\f\v") != std::string::npos)
    throw Error("the key " + util::printable(key) + " holds whitespace, which a Kaldi archive's key cannot (name the inputs by a wav.scp)");
}

}  // namespace

ArkSink::ArkSink(fs::path outdir, int shard_index, int shard_count) : outdir_(std::move(outdir)) {
  std::string m = manifest_name(shard_index, shard_count);  // manifest[-K-of-N].jsonl
  ark_name_ = "feats" + m.substr(std::string("manifest").size(), m.size() - std::string("manifest").size() - 6) + ".ark";
}

fs::path ArkSink::scp_path() const { return ark_path().replace_extension(".scp"); }
fs::path ArkSink::staging() const { return outdir_ / ("." + ark_name_ + ".parts"); }
fs::path ArkSink::staged_path(const std::string& key) const { return staging() / encode(key); }

std::string ArkSink::key_of(const std::string& output) const { return output.substr(ark_name_.size() + 1); }

std::string ArkSink::describe(const std::string& output) const {
  return ark_path().string() + " entry " + util::printable(key_of(output));
}

const std::map<std::string, ArkSink::Entry>& ArkSink::index() const {
  std::call_once(indexed_, [this] {
    std::ifstream is(ark_path(), std::ios::binary);
    if (!is) return;
    kaldi::ArkReader reader(is);
    std::string key;
    int64_t offset = 0, rows = 0, cols = 0;
    try {
      while (reader.skip(key, offset, rows, cols)) index_[key] = {offset, static_cast<int64_t>(kHeaderBytes) + rows * cols * 4};
    } catch (const std::exception& e) {
      throw Error(ark_path().string() + " is damaged (" + e.what() + "); remove it, or use another output folder");
    }
  });
  return index_;
}

bool ArkSink::exists(const std::string& output) const {
  std::error_code ec;
  const std::string key = key_of(output);
  return fs::exists(staged_path(key), ec) || index().count(key) != 0;
}

int64_t ArkSink::bytes_of(const std::string& output) const {
  const std::string key = key_of(output);
  std::error_code ec;
  const auto n = fs::file_size(staged_path(key), ec);
  if (!ec) return static_cast<int64_t>(n);
  auto it = index().find(key);
  return it == index().end() ? -1 : it->second.bytes;
}

std::optional<ArkSink::Location> ArkSink::locate(const std::string& key) const {
  std::error_code ec;
  const fs::path staged = staged_path(key);
  if (fs::exists(staged, ec)) {
    const auto n = fs::file_size(staged, ec);
    if (ec) return std::nullopt;
    return Location{staged, 0, static_cast<int64_t>(n)};
  }
  auto it = index().find(key);
  if (it == index().end()) return std::nullopt;
  return Location{ark_path(), it->second.offset, it->second.bytes};
}

// The bytes are read in blocks for the digest: a long recording's entry is
// never held whole.
std::string ArkSink::damaged(const std::string& output, const Stored& stored, const std::vector<int64_t>& shape) const {
  std::optional<Location> at;
  try {
    at = locate(key_of(output));
  } catch (const Error& e) {
    return e.what();
  }
  if (!at) return "missing";
  if (stored.bytes < 0) return "not recorded";
  if (at->bytes != stored.bytes) return "size " + std::to_string(at->bytes) + " bytes, recorded " + std::to_string(stored.bytes);
  if (shape.size() != 2 || at->bytes < static_cast<int64_t>(kHeaderBytes)) return "header differs";
  try {
    if (read_range(at->file, at->offset, kHeaderBytes) != kaldi::matrix_header(shape[0], shape[1])) return "header differs";
  } catch (const std::exception& e) {
    return e.what();
  }
  if (stored.xxh3.empty()) return "";
  if (file_xxh3(at->file, at->offset, at->bytes) != stored.xxh3) return "content differs from what was written (XXH3)";
  return "";
}

Stored ArkSink::write(const std::string& output, const Tensor& t, int worker) {
  const std::string key = key_of(output);
  check_key(key);
  if (t.shape.size() != 2) {
    std::string axes;
    for (size_t k = 0; k < t.axes.size(); ++k) axes += (k ? ", " : "") + t.axes[k];
    throw Error("a Kaldi archive holds matrices ([frame, dim]); these features are [" + axes + "] (rank " +
                std::to_string(t.shape.size()) + "): use --output-format npy");
  }
  const Written w = write_atomic(staged_path(key), [&](std::ostream& os) {
    kaldi::write_matrix(os, t.data.data(), t.shape[0], t.shape[1]);
  }, worker);
  return {w.bytes, w.xxh3};
}

std::unique_ptr<ChunkWriter> ArkSink::open_chunked(const std::string& output, int worker) {
  const std::string key = key_of(output);
  check_key(key);
  ChunkLayout l;
  l.header = [](const std::vector<int64_t>& shape) {
    // run_batch refuses a pipeline whose output is known not to be a matrix.
    if (shape.size() != 2)
      throw Error("a Kaldi archive holds matrices ([frame, dim]); these features are of rank " +
                  std::to_string(shape.size()) + ": use --output-format npy");
    return kaldi::matrix_header(shape[0], shape[1]);
  };
  l.max_frames = std::numeric_limits<int32_t>::max();  // the header's size is 15 bytes for any count
  return chunk_file_writer(staged_path(key), worker, NpyFolderSink::kChunkedBuffer, std::move(l));
}

void ArkSink::finish() {
  // Key -> where its matrix is: a staged file, or the archive in place.
  struct Source {
    fs::path staged;
    Entry old;
  };
  std::map<std::string, Source> entries;
  for (const auto& [key, e] : index()) entries[key] = {{}, e};
  std::vector<fs::path> staged;
  std::error_code ec;
  for (const auto& f : fs::directory_iterator(staging(), ec)) {
    const std::string name = f.path().filename().string();
    if (name.empty() || name[0] == '.') continue;  // a temporary of a writer
    auto key = decode(name);
    if (!key) continue;
    entries[*key] = {f.path(), {}};
    staged.push_back(f.path());
  }
  if (staged.empty() && (entries.empty() || fs::exists(scp_path(), ec))) return;  // nothing new to index

  std::vector<std::pair<std::string, int64_t>> offsets;
  // The scp first: an scp present always indexes the archive beside it.
  fs::remove(scp_path(), ec);
  if (ec) throw Error("cannot remove " + scp_path().string() + ": " + ec.message());
  write_atomic(ark_path(), [&](std::ostream& os) {
    int64_t at = 0;
    for (const auto& [key, src] : entries) {
      os << key << ' ';
      at += static_cast<int64_t>(key.size()) + 1;
      const int64_t bytes = src.staged.empty() ? src.old.bytes : static_cast<int64_t>(fs::file_size(src.staged));
      offsets.emplace_back(key, at);
      if (src.staged.empty()) copy_range(ark_path(), src.old.offset, bytes, os);
      else copy_range(src.staged, 0, bytes, os);
      at += bytes;
    }
  }, 0);
  const std::string ark = fs::absolute(ark_path()).lexically_normal().string();
  write_atomic(scp_path(), [&](std::ostream& os) {
    for (const auto& [key, at] : offsets) os << key << ' ' << ark << ':' << at << '\n';
  }, 0);
  for (const auto& f : staged) fs::remove(f, ec);
  fs::remove(staging(), ec);  // only when empty (a live writer's temporary stays)
}

bool holds_kaldi_archives(const fs::path& outdir) {
  std::error_code ec;
  for (const auto& f : fs::directory_iterator(outdir, ec)) {
    const std::string name = f.path().filename().string();
    const bool feats = name.rfind("feats", 0) == 0 && (f.path().extension() == ".ark" || f.path().extension() == ".scp");
    const bool parts = name.rfind(".feats", 0) == 0 && name.size() > 10 && name.compare(name.size() - 10, 10, ".ark.parts") == 0;
    if (feats || parts) return true;
  }
  return false;
}

}  // namespace featpipe
