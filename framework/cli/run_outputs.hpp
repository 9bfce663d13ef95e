// The features a `featpipe run` left in its output folder, as its manifests
// (every manifest*.jsonl: shards too) record them, for commands that read a
// whole corpus back (cmvn-stats).
//
// Per output the last line counts and a skipped line confirms the ok line
// before it, as `run` documents for a manifest left uncompacted. Each output
// read is checked against its ok line (size, XXH3-64, shape) before its
// numbers are used: a damaged file is an error, never a silent omission.
#pragma once

#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace featpipe::cli {

struct RunOutput {
  std::filesystem::path outdir;
  std::string output;  // as the manifest names it: "a/b.wav.npy" or "feats.ark#KEY"
  std::string key;     // utterance id, else the output without ".npy" (the ark key): the reading order
  std::vector<int64_t> shape;  // as recorded ([] when only a skipped line names it)
  std::vector<std::string> axes;
  int64_t bytes = -1;  // recorded size; -1 unknown
  std::string xxh3;    // recorded digest; "" unknown
  std::string name() const;  // for messages: OUTDIR/output
};

struct FailedInput {
  std::string input, error;
};

struct RunListing {
  std::vector<RunOutput> outputs;  // ok, sorted by key (byte order, as Kaldi sorts)
  std::vector<FailedInput> failed;  // inputs whose last line is an error
  size_t not_taken = 0;             // files the run did not take (another extension, ...)
  std::vector<std::string> torn;    // "manifest.jsonl:7": lines that are not entries (a run killed mid-line)
};

// Throws Error when OUTDIR is not a folder or holds no manifest.
RunListing list_run(const std::filesystem::path& outdir);

struct Features {
  std::vector<int64_t> shape;
  std::vector<float> data;  // C order
};

// Reads outputs one by one; keeps each archive open and indexed once.
class OutputReader {
 public:
  OutputReader();
  ~OutputReader();
  // Throws Error naming the output and what is wrong with it.
  Features read(const RunOutput& out);

 private:
  struct Archive;
  Archive& archive(const std::filesystem::path& file);
  std::map<std::filesystem::path, std::unique_ptr<Archive>> archives_;
};

}  // namespace featpipe::cli
