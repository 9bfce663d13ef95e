// provenance.json of an output folder: what made its features.
#pragma once

#include <featpipe/featpipe.hpp>

#include <filesystem>
#include <functional>
#include <string>

namespace featpipe {

// What differs in meaning between two provenance texts, "" when nothing:
// resolved parameters, plugin names, versions and hashes, model hashes. The
// pipeline file's bytes (comments, spelling of numbers), its name and
// machine-specific paths do not count. Names the place, e.g. "step 2
// 'audio.stft' parameter hop_length: 160 -> 200".
std::string provenance_difference(const std::string& old_text, const std::string& new_text);

// Writes the pipeline's provenance into `outdir`. An existing one that
// differs in meaning throws Error naming the difference, unless `overwrite`:
// then first every output any manifest of the folder (any shard's) lists as
// ok or skipped is removed by `remove_output` (given the manifest's
// `output`), and the manifests with them, so no feature of the other
// pipeline stays listed. An equal one is kept.
void write_provenance(const Pipeline& pipe, const std::filesystem::path& outdir, bool overwrite,
                      const std::function<void(const std::string&)>& remove_output);

}  // namespace featpipe
