#include "manifest.hpp"

#include <featpipe/featpipe.hpp>

#include "atomic_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <algorithm>
#include <optional>
#include <unordered_map>
#include <vector>

namespace fs = std::filesystem;

namespace featpipe {

Manifest::Manifest(const std::string& path, size_t reserve) : path_(path) {
  std::error_code ec;
  const bool existed = fs::exists(path, ec);
  fd_ = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) throw Error(path + ": cannot write the manifest: " + std::strerror(errno));
  if (reserve > 0) {
    struct stat st{};
    int err = ::fstat(fd_, &st) == 0 ? 0 : errno;
    if (!err && S_ISREG(st.st_mode) && ::fallocate(fd_, FALLOC_FL_KEEP_SIZE, st.st_size, static_cast<off_t>(reserve)) != 0)
      err = errno;
    if (err && err != EOPNOTSUPP && err != ENOSYS) {
      ::close(fd_);
      fd_ = -1;
      if (!existed) fs::remove(path, ec);
      throw Error(path + ": no room for this run's manifest lines (" + std::to_string(reserve / 1024 + 1) +
                  " KiB): " + std::strerror(err) + "; nothing was run");
    }
  }
  // A run killed mid-line leaves a torn last line: our first starts anew.
  struct stat st{};
  if (::fstat(fd_, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
    int rfd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    char last = '\n';
    if (rfd >= 0) {
      if (::pread(rfd, &last, 1, st.st_size - 1) != 1) last = '\n';
      ::close(rfd);
    }
    torn_ = last != '\n';
  }
}

Manifest::~Manifest() {
  if (fd_ < 0) return;
  release();
  ::close(fd_);
}

void Manifest::release() {
  struct stat st{};
  if (::fstat(fd_, &st) != 0 || !S_ISREG(st.st_mode)) return;
  // Whatever was reserved past the end (a hole punched beyond EOF frees the
  // blocks and keeps the size); unsupported: nothing was reserved either.
  (void)::fallocate(fd_, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, st.st_size, off_t{1} << 40);
}

size_t Manifest::reservation(size_t lines, size_t path_bytes) { return lines * 768 + path_bytes * 4; }

void Manifest::rename_to(const std::string& path) {
  std::lock_guard<std::mutex> lock(mu_);
  std::error_code ec;
  fs::rename(path_, path, ec);
  if (ec) throw Error("cannot rename " + path_ + " to " + path + ": " + ec.message());
  path_ = path;
}

void Manifest::append(const ManifestEntry& entry, bool refused) {
  std::lock_guard<std::mutex> lock(mu_);
  if (refused) refused_.insert(entry.line());
  // An earlier line was cut: start a new one. (Built by appending, not
  // insert(0, ...): GCC 12 warns falsely there, -Wrestrict, PR105651.)
  std::string line = torn_ ? "\n" : "";
  line += entry.line();
  size_t at = 0;
  while (at < line.size()) {
    // One write() per line; a short one (a disk filling up) is followed by
    // another for the rest, which completes the line or says why it cannot.
    const ssize_t n = ::write(fd_, line.data() + at, line.size() - at);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int err = errno;  // before anything else can change it
      torn_ = torn_ || at > 0;
      throw Error(path_ + ": cannot append to the manifest: " + (n < 0 ? std::strerror(err) : "nothing written"));
    }
    at += static_cast<size_t>(n);
  }
  torn_ = false;
}

namespace {

// A tar member's lines are one input's whichever shard they name:
// "data-000003.tar#x.npy", and "data-*.tar#x.npy" before it was stored.
std::string slot_output(const std::string& output) {
  const size_t at = output.find(".tar#");
  if (at == std::string::npos || output.rfind("data", 0) != 0 || output.find('/') < at) return output;
  return "data*" + output.substr(at);
}

}  // namespace

void Manifest::compact() {
  std::lock_guard<std::mutex> lock(mu_);
  std::error_code ec;
  if (!fs::is_regular_file(path_, ec)) return;
  release();  // the rewrite needs the room the appends did not use
  // One line per input, keyed by output and input so that two inputs
  // colliding on one output keep a line each. Per key the latest line wins,
  // except that a skip or a refusal keeps the ok line before it (that line
  // holds the identity; a refusal left the output as it was) -- unless a
  // later ok line of another input wrote that output since: the output is
  // that input's now, and the older ok line would lie.
  struct Slot {
    ManifestEntry entry;
    size_t last = 0;                      // line number of the key's latest line
    size_t ok_at = 0;                     // line number of `entry` when it is ok
    std::optional<ManifestEntry> instead;  // the skip/refusal kept back
    std::optional<ManifestEntry> last_ok;  // the key's latest ok line, and its number
    size_t last_ok_at = 0;
  };
  std::vector<Slot> slots;
  std::unordered_map<std::string, size_t> at;      // output, input -> slot
  std::unordered_map<std::string, size_t> writer;  // output -> line of its latest ok
  {
    std::ifstream is(path_);
    size_t n = 0;
    for (std::string line; std::getline(is, line); ++n) {
      const bool refusal = refused_.count(line + "\n") != 0;
      auto e = ManifestEntry::parse(line);
      if (!e) continue;  // torn: dropped
      const bool ok = e->status == ManifestEntry::Status::ok;
      const bool skip = e->status == ManifestEntry::Status::skipped;
      if (ok) writer[e->output] = n;
      auto [it, fresh] = at.emplace(slot_output(e->output) + '\n' + fs::path(e->input).lexically_normal().string(), slots.size());
      if (fresh) {
        slots.push_back({*e, n, ok ? n : 0, std::nullopt, std::nullopt, 0});
        if (ok) slots.back().last_ok = std::move(*e), slots.back().last_ok_at = n;
        continue;
      }
      Slot& s = slots[it->second];
      s.last = n;
      if (s.entry.status == ManifestEntry::Status::ok && (skip || refusal)) {
        s.instead = std::move(*e);
      } else if (skip && s.last_ok) {
        // A resume checked the key's latest ok line (as ResumeIndex reads
        // it) and found it holds, past a line of a run killed before its
        // compaction (a refusal that left the output as it was).
        s.entry = *s.last_ok;
        s.ok_at = s.last_ok_at;
        s.instead = std::move(*e);
      } else {
        if (ok) s.last_ok = *e, s.last_ok_at = n;
        s.entry = std::move(*e);
        s.ok_at = ok ? n : 0;
        s.instead.reset();
      }
    }
    if (is.bad()) throw Error(path_ + ": cannot read the manifest back to compact it");
  }
  std::vector<const Slot*> order;
  for (Slot& s : slots) {
    if (s.entry.status == ManifestEntry::Status::ok && writer[s.entry.output] != s.ok_at) {
      if (!s.instead) continue;  // superseded, nothing else to say about it
      s.entry = std::move(*s.instead);
    }
    order.push_back(&s);
  }
  std::sort(order.begin(), order.end(), [](const Slot* a, const Slot* b) { return a->last < b->last; });
  write_atomic(path_, [&](std::ostream& os) {
    for (const Slot* slot : order) os << slot->entry.line();
  }, 0);
  // Later appends (none in a run) would go to the replaced file: reopen.
  const int fd = ::open(path_.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  if (fd >= 0) {
    ::close(fd_);  // the old file, reservation released above
    fd_ = fd;
  }
  torn_ = false;
}

std::vector<fs::path> files_named(const fs::path& outdir, std::string_view prefix, std::string_view extension) {
  std::vector<fs::path> out;
  std::error_code ec;
  for (const auto& f : fs::directory_iterator(outdir, ec)) {
    const std::string name = f.path().filename().string();
    std::error_code type_ec;
    if (name.rfind(prefix, 0) == 0 && f.path().extension() == extension && f.is_regular_file(type_ec))
      out.push_back(f.path());
  }
  return out;
}

std::vector<fs::path> manifest_files(const fs::path& outdir) { return files_named(outdir, "manifest", ".jsonl"); }

std::string manifest_name(int shard_index, int shard_count) {
  if (shard_count <= 1) return "manifest.jsonl";
  return "manifest-" + std::to_string(shard_index) + "-of-" + std::to_string(shard_count) + ".jsonl";
}

}  // namespace featpipe
