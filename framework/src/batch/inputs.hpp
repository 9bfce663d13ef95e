// Listing a run's inputs: folders walked recursively, sorted.
#pragma once

#include <string>
#include <vector>

namespace featpipe {

struct InputFile {
  std::string path;  // as found (the argument, or argument/relative)
  std::string rel;   // relative path kept under OUTDIR ("sub/x.wav")
};

struct InputList {
  std::vector<InputFile> files;
  size_t not_taken = 0;  // files in folders with an extension not read
};

// Throws Error for an input path that does not exist.
InputList list_inputs(const std::vector<std::string>& args, const std::vector<std::string>& extensions);

}  // namespace featpipe
