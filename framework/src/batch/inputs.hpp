// Listing a run's inputs: folders walked recursively, sorted. Every path
// given or found is accounted for: taken, or listed as not taken with why.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace featpipe {

struct InputFile {
  InputFile() = default;
  InputFile(std::string p, std::string r, std::string k = "", std::string e = "")
      : path(std::move(p)), rel(std::move(r)), key(std::move(k)), error(std::move(e)) {}
  std::string path;  // as found (the argument, or argument/relative), bytes as on disk
  std::string rel;   // relative path kept under OUTDIR ("sub/x.wav"); a wav.scp's utterance id
  std::string key;   // the utterance id of a wav.scp line, "" otherwise
  std::string error; // why it cannot be read (a listed file that does not exist): fails alone
  bool command = false;  // `path` is a wav.scp piped command (`CMD |`, --allow-commands)
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
  // A path that does not exist is an input that fails (an entry of a list
  // file) instead of an Error that stops the run (a command-line argument).
  bool missing_fails_alone = false;
  // A wav.scp's piped commands (`UTT-ID CMD |`) are inputs (run through
  // /bin/sh) instead of lines refused.
  bool allow_commands = false;
};

// Throws Error for an input path that does not exist. Unreadable folders,
// dangling or looping links and special files are listed, not thrown.
InputList list_inputs(const std::vector<std::string>& args, const std::vector<std::string>& extensions,
                      const ListOptions& lo = {});

}  // namespace featpipe
