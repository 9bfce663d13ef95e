#include "resume_index.hpp"

#include "manifest.hpp"
#include "sink.hpp"

#include <sys/stat.h>

#include <filesystem>
#include <fstream>

namespace fs = std::filesystem;

namespace featpipe {

ResumeIndex ResumeIndex::read(const std::string& outdir) {
  ResumeIndex index;
  for (const auto& file : manifest_files(outdir)) {
    std::ifstream is(file);
    for (std::string line; std::getline(is, line);)
      if (auto e = ManifestEntry::parse(line)) index.add(*e);
  }
  return index;
}

void ResumeIndex::add(const ManifestEntry& e) {
  if (e.status == ManifestEntry::Status::error || e.status == ManifestEntry::Status::not_taken) return;
  auto [it, fresh] = entries_.emplace(e.output, e);
  // The latest ok line wins: it describes the output as last written.
  if (!fresh && (e.status == ManifestEntry::Status::ok || it->second.status != ManifestEntry::Status::ok)) it->second = e;
}

InputIdentity input_identity(const std::string& path) {
  struct stat st{};
  if (::stat(path.c_str(), &st) != 0) return {};
  return {static_cast<int64_t>(st.st_size), static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec};
}

std::string ResumeIndex::stale(const std::string& output, const std::string& input, const Sink& sink) const {
  const ManifestEntry* e = find(output);
  if (!e) return "not done";
  if (e->status != ManifestEntry::Status::ok) return "no ok line";
  if (e->input_bytes < 0 || e->input_mtime_ns < 0) return "no input identity recorded";
  if (input_identity(input) != InputIdentity{e->input_bytes, e->input_mtime_ns}) return "input changed";
  std::string why = sink.damaged(output, Stored{e->output_bytes, e->output_xxh3}, e->shape);
  return why.empty() ? "" : "output " + why;
}

const ManifestEntry* ResumeIndex::find(const std::string& output) const {
  auto it = entries_.find(output);
  return it == entries_.end() ? nullptr : &it->second;
}

}  // namespace featpipe
