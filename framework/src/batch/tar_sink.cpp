#include "tar_sink.hpp"

#include "atomic_file.hpp"
#include "manifest.hpp"
#include "names.hpp"
#include "tar_format.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>

#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

namespace fs = std::filesystem;

namespace featpipe {

namespace {

bool all_digits(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// "data-000003.tar" or "data-K-of-N-000003.tar": the family ("data",
// "data-K-of-N") and the number; false for any other name.
bool parse_shard_name(const std::string& name, std::string& family, size_t& number) {
  if (name.size() < 15 || name.rfind("data", 0) != 0 || name.compare(name.size() - 4, 4, ".tar") != 0) return false;
  const std::string stem = name.substr(0, name.size() - 4);
  const size_t dash = stem.rfind('-');
  if (dash == std::string::npos || stem.size() - dash - 1 < 6 || !all_digits(stem.substr(dash + 1))) return false;
  family = stem.substr(0, dash);
  if (family != "data") {  // data-K-of-N
    const size_t of = family.find("-of-");
    if (family.rfind("data-", 0) != 0 || of == std::string::npos || !all_digits(family.substr(5, of - 5)) ||
        !all_digits(family.substr(of + 4)))
      return false;
  }
  number = std::stoul(stem.substr(dash + 1));
  return true;
}

bool has_extension(const std::string& base, const std::string& ext) {
  if (ext.empty() || base.size() <= ext.size() + 1 || base[base.size() - ext.size() - 1] != '.') return false;
  for (size_t k = 0; k < ext.size(); ++k)
    if (std::tolower(static_cast<unsigned char>(base[base.size() - ext.size() + k])) != std::tolower(static_cast<unsigned char>(ext[k])))
      return false;
  return true;
}

std::string read_range(const fs::path& file, uint64_t offset, uint64_t bytes) {
  std::ifstream is(file, std::ios::binary);
  std::string s(bytes, '\0');
  if (!is.seekg(static_cast<std::streamoff>(offset)) || !is.read(s.data(), static_cast<std::streamsize>(bytes)))
    throw Error(file.string() + ": cannot read " + std::to_string(bytes) + " bytes at " + std::to_string(offset));
  return s;
}

}  // namespace

TarSink::TarSink(fs::path outdir, Options o) : outdir_(std::move(outdir)), o_(std::move(o)) {
  if (o_.shard_size < 1) throw Error("--shard-size must be at least 1");
  const std::string m = manifest_name(o_.shard_index, o_.shard_count);  // manifest[-K-of-N].jsonl
  family_ = "data" + m.substr(8, m.size() - 8 - 6);
  encoded_.resize(static_cast<size_t>(std::max(1, o_.workers)));
}

TarSink::~TarSink() {
  if (fd_ < 0) return;
  ::close(fd_);
  std::error_code ec;
  fs::remove(tmp_, ec);  // a run ending by an exception: its open shard is not complete
}

std::string TarSink::member_of(const std::string& rel) const {
  const size_t slash = rel.rfind('/');
  const std::string dir = slash == std::string::npos ? "" : rel.substr(0, slash + 1);
  std::string base = rel.substr(dir.size());
  for (const auto& ext : o_.extensions) {
    const std::string e = !ext.empty() && ext[0] == '.' ? ext.substr(1) : ext;
    if (has_extension(base, e)) {
      base.resize(base.size() - e.size() - 1);
      break;
    }
  }
  std::replace(base.begin(), base.end(), '.', '_');
  return dir + base + ".npy";
}

std::string TarSink::shard_name(size_t number) const {
  char digits[32];
  std::snprintf(digits, sizeof digits, "%06zu", number);
  return family_ + "-" + digits + ".tar";
}

const std::map<std::string, TarSink::Where>& TarSink::index() const {
  std::call_once(indexed_, [this] {
    std::error_code ec;
    std::vector<std::pair<size_t, std::string>> shards;  // by number, so a later shard's member wins
    for (const auto& f : fs::directory_iterator(outdir_, ec)) {
      std::string family;
      size_t number = 0;
      const std::string name = f.path().filename().string();
      if (parse_shard_name(name, family, number)) shards.emplace_back(number, name);
      if (family == family_) next_number_ = std::max(next_number_, number + 1);
    }
    std::sort(shards.begin(), shards.end());
    for (const auto& [number, name] : shards) {
      std::vector<tar::Member> ms;
      try {
        ms = tar::members(outdir_ / name);
      } catch (const std::exception& e) {
        throw Error(std::string(e.what()) + ": the shard is damaged; remove it (--resume then redoes its inputs)");
      }
      std::string family;
      size_t n = 0;
      parse_shard_name(name, family, n);
      if (family == family_) own_[name] = {ms.size(), fs::file_size(outdir_ / name, ec)};
      for (const auto& m : ms) index_[m.name] = {name, m.offset, m.size};
    }
  });
  return index_;
}

std::string TarSink::output_of(const std::string& rel) const {
  const std::string member = member_of(rel);
  auto it = index().find(member);
  return (it == index().end() ? family_ + "-*.tar" : it->second.shard) + "#" + member;
}

const TarSink::Where* TarSink::find(const std::string& output) const {
  const size_t hash = output.find('#');
  if (hash == std::string::npos) return nullptr;
  auto it = index().find(output.substr(hash + 1));
  return it != index().end() && it->second.shard == output.substr(0, hash) ? &it->second : nullptr;
}

bool TarSink::exists(const std::string& output) const { return find(output) != nullptr; }

int64_t TarSink::bytes_of(const std::string& output) const {
  const Where* w = find(output);
  return w ? static_cast<int64_t>(w->size) : -1;
}

std::string TarSink::describe(const std::string& output) const {
  const size_t hash = output.find('#');
  return (outdir_ / output.substr(0, hash)).string() + " member " + util::printable(output.substr(hash + 1));
}

std::string TarSink::damaged(const std::string& output, const Stored& stored, const std::vector<int64_t>& shape) const {
  const Where* w = find(output);
  if (!w) return "missing";
  if (stored.bytes < 0) return "not recorded";
  if (static_cast<int64_t>(w->size) != stored.bytes)
    return "size " + std::to_string(w->size) + " bytes, recorded " + std::to_string(stored.bytes);
  std::string bytes;
  try {
    bytes = read_range(outdir_ / w->shard, w->offset, w->size);
  } catch (const Error& e) {
    return e.what();
  }
  if (bytes.rfind(npy_header(shape, o_.dtype), 0) != 0) return "header differs";
  if (stored.xxh3.empty()) return "";
  if (bytes_xxh3(bytes) != stored.xxh3) return "content differs from what was written (XXH3)";
  return "";
}

std::string TarSink::refuses_redo(const std::string& output) const {
  if (!exists(output)) return "";
  const std::string shard = output.substr(0, output.find('#'));
  return "it is stored in " + (outdir_ / shard).string() +
         ", a completed shard, which a run never rewrites: remove that shard (--resume then redoes its inputs), "
         "or use another output folder";
}

Stored TarSink::write(const std::string& /*output*/, const Tensor& t, int worker) {
  std::string bytes = npy_bytes(t, o_.dtype, o_.source);
  Stored s{static_cast<int64_t>(bytes.size()), bytes_xxh3(bytes)};
  encoded_.at(static_cast<size_t>(worker)) = std::move(bytes);
  return s;
}

std::string TarSink::take_encoded(int worker) { return std::exchange(encoded_.at(static_cast<size_t>(worker)), {}); }

void TarSink::open_shard() {
  index();  // the numbers taken
  final_ = outdir_ / shard_name(next_number_++);
  tmp_ = temporary_path(final_, 0);
  fd_ = ::open(tmp_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);  // close-on-exec: a wav.scp command never holds it
  if (fd_ < 0) throw Error("cannot write " + final_.string() + ": " + std::strerror(errno));
  written_ = 0;
  buffer_.clear();
}

void TarSink::flush_buffer() {
  for (size_t at = 0; at < buffer_.size();) {
    const ssize_t n = ::write(fd_, buffer_.data() + at, buffer_.size() - at);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw Error("cannot write " + final_.string() + ": " + std::strerror(n < 0 ? errno : ENOSPC));
    at += static_cast<size_t>(n);
  }
  buffer_.clear();
}

void TarSink::fail_held(const std::string& why, const Record& record) {
  failed_ = why;
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  buffer_.clear();
  std::error_code ec;
  fs::remove(tmp_, ec);
  for (ManifestEntry& e : held_) {
    if (e.output.find('#') == std::string::npos) e.output = family_ + "-*.tar#" + e.output;
    e.status = ManifestEntry::Status::error;
    e.error = why;
    e.shape.clear();
    e.axes.clear();
    record(std::move(e));
  }
  held_.clear();
}

void TarSink::commit(ManifestEntry e, const Record& record) {
  if (e.status != ManifestEntry::Status::ok) return record(std::move(e));
  const std::string bytes = std::move(e.payload);
  e.payload.clear();
  const std::string member = e.output.substr(e.output.find('#') + 1);
  if (!failed_.empty() || bytes.empty()) {
    e.status = ManifestEntry::Status::error;
    e.error = failed_.empty() ? "no output came back from the worker" : "not stored: " + failed_;
    return record(std::move(e));
  }
  try {
    if (fd_ < 0) open_shard();
    const std::string head = tar::member_header(member, bytes.size(), std::chrono::duration_cast<std::chrono::seconds>(
                                                                          std::chrono::system_clock::now().time_since_epoch()).count());
    const size_t pad = tar::padding(bytes.size());
    buffer_ += head;
    buffer_ += bytes;
    buffer_.append(pad, '\0');
    written_ += head.size() + bytes.size() + pad;
    if (buffer_.size() >= (size_t{1} << 20)) flush_buffer();
  } catch (const std::exception& ex) {
    held_.push_back(std::move(e));
    return fail_held(ex.what(), record);
  }
  e.output = member;  // the shard's name is known once it is in place
  held_.push_back(std::move(e));
  if (held_.size() >= o_.shard_size) close_shard(record);
}

void TarSink::close_shard(const Record& record) {
  if (fd_ < 0) return;
  const std::string end = tar::end_blocks();
  buffer_ += end;
  try {
    flush_buffer();
  } catch (const std::exception& ex) {
    return fail_held(ex.what(), record);
  }
  const int closed = ::close(fd_);
  fd_ = -1;
  if (closed != 0) return fail_held("cannot write " + final_.string() + ": " + std::strerror(errno), record);
  // Never over an existing shard (another run's, or one made since the
  // folder was read): the next free number instead.
  while (::renameat2(AT_FDCWD, tmp_.c_str(), AT_FDCWD, final_.c_str(), RENAME_NOREPLACE) != 0) {
    if (errno != EEXIST) return fail_held("cannot rename into " + final_.string() + ": " + std::strerror(errno), record);
    final_ = outdir_ / shard_name(next_number_++);
  }
  const std::string shard = final_.filename().string();
  own_[shard] = {held_.size(), written_ + end.size()};
  for (ManifestEntry& e : held_) {
    e.output = shard + "#" + e.output;
    record(std::move(e));
  }
  held_.clear();
  try {
    write_index();
  } catch (const std::exception& ex) {
    failed_ = ex.what();  // the shard stands; finish() (now or in a later run) writes the index
  }
}

void TarSink::close(const Record& record) { close_shard(record); }

void TarSink::write_index() {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& [name, stats] : own_)
    list.push_back({{"url", name}, {"nsamples", stats.first}, {"filesize", stats.second}});
  const nlohmann::json j = {{"__kind__", "wids-shard-index-v1"}, {"wids_version", 1}, {"name", family_}, {"shardlist", list}};
  write_atomic(outdir_ / (family_ + ".json"), [&](std::ostream& os) { os << j.dump(1) << "\n"; }, 0);
}

void TarSink::finish() {
  if (!failed_.empty()) throw Error(failed_);
  index();
  if (!own_.empty()) write_index();
}

bool holds_tar_shards(const fs::path& outdir) {
  std::error_code ec;
  for (const auto& f : fs::directory_iterator(outdir, ec)) {
    std::string family;
    size_t number = 0;
    if (parse_shard_name(f.path().filename().string(), family, number)) return true;
  }
  return false;
}

}  // namespace featpipe
