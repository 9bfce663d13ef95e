// What `featpipe validate` reports about a loaded pipeline, for people
// (compact parameters, streaming line) and for scripts (--json).
#pragma once

#include <featpipe/featpipe.hpp>

#include <string>

namespace featpipe::cli {

// A step's resolved parameters as a YAML flow map: "{n_fft: 400, window: hann}".
std::string params_flow(const std::string& params_json);

// Output frames per second of a pipeline with a time axis: the first step's
// sample rate over the hops of the steps after it; NaN when the rate is
// known only once a file is read, or there is no time axis.
double frame_rate(const Pipeline& pipe);

// "streaming: ..." (no trailing newline): whether, latency, frame rate.
std::string streaming_line(const Pipeline& pipe);

// "files: ..." (no trailing newline): how `run` reads a file and writes its
// features (in chunks or whole, and why); "" when the pipeline reads none.
std::string files_line(const Pipeline& pipe);

// What `featpipe validate` prints for a pipeline that loads (before its
// warnings and "ok"): the steps with their shapes and resolved parameters,
// then the streaming line. Also Python's Pipeline.describe().
std::string validate_text(const Pipeline& pipe);

std::string validate_json(const Pipeline& pipe);
// A load error as {"ok": false, "error": {file, line, col, message}}; the
// location fields are null when the message carries none.
std::string validate_error_json(const std::string& message);

}  // namespace featpipe::cli
