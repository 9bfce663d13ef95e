// `run --inputs-from FILE`: the inputs as a file of lines (`-`: stdin),
// either a plain list of paths or a Kaldi wav.scp.
//
// A plain list: each line is taken as a command-line argument would be (a
// folder is walked, a file is taken whatever its extension), except that a
// path that does not exist fails alone (an error line in the manifest)
// instead of stopping the run.
//
// A wav.scp: `UTT-ID PATH` per line (Kaldi's form: the id is the first
// whitespace-delimited token, the path the rest of the line, trimmed). The
// id names the output (`UTT-ID.npy`, the ark's key) and is the manifest's
// "utt_id". A piped command (`UTT-ID CMD |`) is an input when
// ListOptions::allow_commands says so (scp_command.hpp runs it). Refused
// before any work (Error naming the line): a piped command otherwise, stdin (`-`), a line without a path, an id that
// could leave the output folder (`..`, a leading `/`), an id given twice
// (naming both lines). Blank lines are skipped in both forms.
#pragma once

#include "inputs.hpp"

#include <istream>
#include <string>
#include <vector>

namespace featpipe {

enum class ListForm {
  automatic,  // wav.scp when the file's name ends in .scp, else a plain list
  paths,
  scp,
};

// `name` is shown in messages ("wav.scp:3: ..."); "-" for stdin.
InputList read_input_list(std::istream& is, const std::string& name, ListForm form,
                          const std::vector<std::string>& extensions, const ListOptions& lo);

// Opens `from` (or stdin for "-"), then as above. Throws Error when unreadable.
InputList read_input_list(const std::string& from, ListForm form, const std::vector<std::string>& extensions,
                          const ListOptions& lo);

}  // namespace featpipe
