// One line of manifest.jsonl, typed.
//
// The line keeps its format: {"axes", "error", "input", "output", "seconds",
// "shape", "status"} (keys sorted, as nlohmann::json writes objects), with
// "shape" and "axes" only on ok lines and "error" null unless an error;
// not_taken lines add "reason". Ok lines also carry what --resume checks
// before trusting them: "input_bytes" and "input_mtime_ns" (the input as
// read), "output_bytes" and "output_xxh3" (XXH3-64 of the file, hex, as `xxhsum -H3`
// prints it), each only when known; "sample_rate" (Hz) when the features
// carry one, so a run whose files keep their own rates says which each had.
// Inputs listed by a wav.scp add "utt_id", their utterance id.
// A name that is not UTF-8
// is written with U+FFFD and its bytes also as base64 in "input_b64"/
// "output_b64", which from_json prefers: names round-trip byte-exact.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace featpipe {

struct ManifestEntry {
  // not_taken: a path given or found that the run does not read; `reason`
  // says why, "output" is "" (such lines never count as done for --resume).
  enum class Status { ok, skipped, error, not_taken };

  std::string input;   // the path as found
  std::string output;  // the sink's name for it, relative to the output folder
  std::string utt_id;  // the wav.scp utterance id ("utt_id", only when from a wav.scp)
  Status status = Status::ok;
  std::vector<int64_t> shape;  // of the features written (ok only)
  std::vector<std::string> axes;
  std::string error;           // why (error only)
  // Identity, ok lines only; -1 when unknown (a line from an older featpipe,
  // or a sink that cannot tell): --resume then redoes the input.
  int64_t input_bytes = -1, input_mtime_ns = -1, output_bytes = -1;
  std::string output_xxh3;  // XXH3-64 of the output's bytes, 16 hex digits; "" unknown
  double sample_rate = 0;   // of the features written (ok only); 0: they carry none
  std::string reason;          // why not taken (not_taken only, as "reason")
  double seconds = 0;          // wall time of this input
  // Seconds of media decoded. Kept for progress, not written: the line
  // format is relied on by users' scripts and stays as it was.
  double media_seconds = 0;
  // An input's encoded output on its way from a worker to a sink that
  // writes in the run's process (Sink::take_encoded); not written either.
  std::string payload;

  nlohmann::json to_json() const;
  // One manifest line, newline included (invalid UTF-8 replaced).
  std::string line() const;
  // Nullopt for what is not an entry: not an object, no string "output",
  // an unknown status. Fields of the wrong type are left at their defaults.
  static std::optional<ManifestEntry> from_json(const nlohmann::json& j);
  // Also nullopt for a torn or unparsable line.
  static std::optional<ManifestEntry> parse(const std::string& line);
};

const char* to_string(ManifestEntry::Status s);

}  // namespace featpipe
