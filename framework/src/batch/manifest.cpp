#include "manifest.hpp"

#include <featpipe/featpipe.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

namespace fs = std::filesystem;

namespace featpipe {

Manifest::Manifest(const std::string& path) : path_(path) {
  fd_ = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) throw Error(path + ": cannot write the manifest: " + std::strerror(errno));
  // A run killed mid-line leaves a torn last line: start ours on a new one.
  struct stat st{};
  if (::fstat(fd_, &st) == 0 && st.st_size > 0) {
    int rfd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    char last = '\n';
    if (rfd >= 0) {
      if (::pread(rfd, &last, 1, st.st_size - 1) != 1) last = '\n';
      ::close(rfd);
    }
    if (last != '\n' && ::write(fd_, "\n", 1) != 1) throw Error(path + ": cannot write the manifest");
  }
}

Manifest::~Manifest() {
  if (fd_ >= 0) ::close(fd_);
}

void Manifest::append(const nlohmann::json& entry) {
  const std::string line = entry.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  std::lock_guard<std::mutex> lock(mu_);
  ssize_t n = ::write(fd_, line.data(), line.size());
  if (n != static_cast<ssize_t>(line.size())) throw Error(path_ + ": cannot append to the manifest: " + std::strerror(errno));
}

std::map<std::string, bool> read_done(const std::string& outdir) {
  std::map<std::string, bool> done;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(outdir, ec)) {
    const std::string name = e.path().filename().string();
    if (name.rfind("manifest", 0) != 0 || e.path().extension() != ".jsonl") continue;
    std::ifstream is(e.path());
    std::string line;
    while (std::getline(is, line)) {
      auto j = nlohmann::json::parse(line, nullptr, false);
      if (j.is_discarded() || !j.is_object() || !j.contains("output") || !j["output"].is_string()) continue;
      const std::string status = j.value("status", "");
      // Any ok line counts: outputs are replaced atomically, so a later
      // failure (or a refusal to overwrite) leaves that output intact.
      done[j["output"].get<std::string>()] |= status == "ok" || status == "skipped";
    }
  }
  return done;
}

}  // namespace featpipe
