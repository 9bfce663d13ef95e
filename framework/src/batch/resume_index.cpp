#include "resume_index.hpp"

#include <filesystem>
#include <fstream>

namespace fs = std::filesystem;

namespace featpipe {

ResumeIndex ResumeIndex::read(const std::string& outdir) {
  ResumeIndex index;
  std::error_code ec;
  for (const auto& f : fs::directory_iterator(outdir, ec)) {
    const std::string name = f.path().filename().string();
    if (name.rfind("manifest", 0) != 0 || f.path().extension() != ".jsonl") continue;
    std::ifstream is(f.path());
    for (std::string line; std::getline(is, line);)
      if (auto e = ManifestEntry::parse(line)) index.add(*e);
  }
  return index;
}

void ResumeIndex::add(const ManifestEntry& e) {
  if (e.status == ManifestEntry::Status::error || e.status == ManifestEntry::Status::not_taken) return;
  auto [it, fresh] = entries_.emplace(e.output, e);
  if (!fresh && it->second.status != ManifestEntry::Status::ok) it->second = e;
}

const ManifestEntry* ResumeIndex::find(const std::string& output) const {
  auto it = entries_.find(output);
  return it == entries_.end() ? nullptr : &it->second;
}

}  // namespace featpipe
