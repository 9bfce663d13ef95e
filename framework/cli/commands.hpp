// The featpipe CLI's subcommands. Each registers its options on the app and
// returns the exit status of its run: 0 ok, 1 some inputs failed, 2 usage
// or pipeline error.
#pragma once

#include <CLI/CLI.hpp>

#include <featpipe/runner.hpp>

#include <functional>
#include <string>

namespace featpipe::cli {

using Action = std::function<int()>;

Action add_run(CLI::App& app);
Action add_status(CLI::App& app);
Action add_cmvn_stats(CLI::App& app);
Action add_validate(CLI::App& app);
Action add_stages(CLI::App& app);
Action add_plot(CLI::App& app);
Action add_stream(CLI::App& app);
Action add_index_plugins(CLI::App& app);

// Progress display for run: a bar on a terminal, a line every few seconds
// otherwise, and the summary at the end.
std::function<void(const RunProgress&)> progress_printer(bool tty);
std::string summary_line(const RunProgress& p);

}  // namespace featpipe::cli
