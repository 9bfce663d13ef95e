// `featpipe stages --json` and `--markdown`: the stage schemas as a document
// for scripts and editors, and as the committed reference docs/stages.md.
#pragma once

#include <featpipe/featpipe.hpp>

#include <string>
#include <vector>

namespace featpipe::cli {

// "audio" of "audio.stft": the part before the first dot.
std::string family_of(const std::string& stage);

std::string stages_json(const std::vector<StageDoc>& stages);
// Reproducible across machines: plugin files by name, not by path.
// `selection`: empty for the whole reference (docs/stages.md), else the
// family or stage it was cut to, named in the title instead.
std::string stages_markdown(const std::vector<StageDoc>& stages, const std::string& selection = "");

}  // namespace featpipe::cli
