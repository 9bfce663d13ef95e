// Option checks whose messages a user can act on: CLI11's own range checks
// print "Value -1 not in range 0.000000 to 1.797693e+308"-style text.
#pragma once

#include <CLI/CLI.hpp>

#include <limits>
#include <string>

namespace featpipe::cli {

// A whole number in [min, max]: "expected a whole number of at least 1, got -1".
CLI::Validator whole_number(int min, int max = std::numeric_limits<int>::max());
// A finite number above 0 (a sample rate): "expected a number above 0 (Hz, e.g. 16000), got 16k".
CLI::Validator positive_number(const std::string& unit_hint);

// "1 step", "2 steps".
std::string count_text(size_t n, const std::string& singular, const std::string& plural = "");

}  // namespace featpipe::cli
