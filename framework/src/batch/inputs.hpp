// Listing a run's inputs: folders walked recursively, sorted. Every path
// given or found is accounted for: taken, or listed as not taken with why.
#pragma once

#include <string>
#include <vector>

namespace featpipe {

struct InputFile {
  std::string path;  // as found (the argument, or argument/relative), bytes as on disk
  std::string rel;   // relative path kept under OUTDIR ("sub/x.wav")
};

// A path given or found that the run does not read.
struct NotTaken {
  std::string path;
  std::string reason;   // "extension .txt: the pipeline reads .wav", "unreadable folder: ...", ...
  bool missed = false;  // an input that was meant and cannot be read: the run exits 1
  bool folder = false;  // a folder left out of the walk (an output folder)
};

struct InputList {
  std::vector<InputFile> files;
  size_t not_taken = 0;             // files in folders with an extension not read
  std::vector<NotTaken> not_taken_list;  // everything not taken, with why (the above included)
};

struct ListOptions {
  // The run's output folder: never walked as input, even if inside an input
  // folder (nor is any folder holding a featpipe provenance.json or manifest).
  std::string outdir;
};

// Throws Error for an input path that does not exist. Unreadable folders,
// dangling or looping links and special files are listed, not thrown.
InputList list_inputs(const std::vector<std::string>& args, const std::vector<std::string>& extensions,
                      const ListOptions& lo = {});

}  // namespace featpipe
