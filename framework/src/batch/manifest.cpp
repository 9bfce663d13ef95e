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

Manifest::Manifest(const std::string& path) : path_(path) {
  fd_ = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) throw Error(path + ": cannot write the manifest: " + std::strerror(errno));
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
  if (fd_ >= 0) ::close(fd_);
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

void Manifest::compact() {
  std::lock_guard<std::mutex> lock(mu_);
  std::error_code ec;
  if (!fs::is_regular_file(path_, ec)) return;
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
      if (ok) writer[e->output] = n;
      auto [it, fresh] = at.emplace(e->output + '\n' + fs::path(e->input).lexically_normal().string(), slots.size());
      if (fresh) slots.push_back({std::move(*e), n, ok ? n : 0, std::nullopt});
      else {
        Slot& s = slots[it->second];
        s.last = n;
        if (s.entry.status == ManifestEntry::Status::ok && (e->status == ManifestEntry::Status::skipped || refusal)) {
          s.instead = std::move(*e);
        } else {
          s.entry = std::move(*e);
          s.ok_at = ok ? n : 0;
          s.instead.reset();
        }
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
    ::close(fd_);
    fd_ = fd;
  }
  torn_ = false;
}

std::string manifest_name(int shard_index, int shard_count) {
  if (shard_count <= 1) return "manifest.jsonl";
  return "manifest-" + std::to_string(shard_index) + "-of-" + std::to_string(shard_count) + ".jsonl";
}

}  // namespace featpipe
