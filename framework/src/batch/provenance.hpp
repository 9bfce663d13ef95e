// provenance.json of an output folder: what made its features.
#pragma once

#include <featpipe/featpipe.hpp>

#include <filesystem>
#include <string>

namespace featpipe {

// What differs in meaning between two provenance texts, "" when nothing:
// resolved parameters, plugin names, versions and hashes, model hashes. The
// pipeline file's bytes (comments, spelling of numbers), its name and
// machine-specific paths do not count. Names the place, e.g. "step 2
// 'audio.stft' parameter hop_length: 160 -> 200".
std::string provenance_difference(const std::string& old_text, const std::string& new_text);

// What an output folder's provenance.json says about this pipeline.
enum class ProvenanceState {
  absent,   // none yet: write it
  same,     // equal in meaning: keep it
  replace,  // another pipeline's, and --overwrite: clear, then write
};
// `text`: the provenance a run writes (Pipeline::provenance_json, plus the
// run's output dtype when not float32). Compares without writing anything. A provenance that differs in meaning
// throws Error naming the difference, unless `overwrite`.
ProvenanceState check_provenance(const std::string& text, const std::filesystem::path& outdir, bool overwrite);

// Before replacing another pipeline's provenance: every output any manifest
// of the folder (any shard's) lists as ok or skipped is removed (only files
// inside the folder), then the manifests, so no feature of the other
// pipeline stays listed.
// Killed midway, the manifests are already set aside as journals
// (.NAME.clearing) that finish_clearing completes at the next run's start.
void clear_listed_outputs(const std::filesystem::path& outdir);
void finish_clearing(const std::filesystem::path& outdir);

// Writes the pipeline's provenance.json (temporary + rename).
void store_provenance(const std::string& text, const std::filesystem::path& outdir);
// The same in two steps, for --overwrite: the file written whole under a
// temporary name (a full disk fails here, before anything is cleared),
// then put in place by a rename, which needs no room.
std::filesystem::path stage_provenance(const std::string& text, const std::filesystem::path& outdir);
void place_provenance(const std::filesystem::path& staged, const std::filesystem::path& outdir);

}  // namespace featpipe
