// provenance.json of an output folder: what made its features.
#pragma once

#include <featpipe/featpipe.hpp>

#include <filesystem>

namespace featpipe {

// Writes the pipeline's provenance into `outdir`. An existing one that
// describes another pipeline or plugin version (machine-specific paths
// aside) throws Error unless `overwrite`; an equal one is kept.
void write_provenance(const Pipeline& pipe, const std::filesystem::path& outdir, bool overwrite);

}  // namespace featpipe
