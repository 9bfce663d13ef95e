// A wav.scp's piped command (`UTT-ID CMD |`, `run --allow-commands`) as an
// input: run through /bin/sh, its stdout captured in a temporary file of the
// output folder (named as atomic_file names temporaries, so the runner's
// stale-temporary sweep removes one left by a killed worker or run), then
// decoded by the pipeline's first step like any file.
#pragma once

#include <featpipe/featpipe.hpp>

#include <string>

namespace featpipe {

struct CommandOptions {
  std::string scratch_dir;  // where the output is captured; "": the system's temporary folder
  double timeout = 0;       // seconds; 0: none. A command still running then is killed (its process group)
};

// The command of a wav.scp entry as written ("sox a.flac -t wav - |"): the
// text before the final '|', trimmed.
std::string command_of(const std::string& entry);

// Runs `command` (sh -c, stdin /dev/null), then session.run_file on what it
// printed. Throws Error when the command exits non-zero, is killed, times
// out, prints nothing, or prints bytes that do not decode; the message holds
// the exit status and the last lines of its stderr. The captured file is
// removed whatever happens (but a SIGKILL of this process: the sweep's job).
Tensor run_command_input(const std::string& command, Session& session, const CommandOptions& o, int worker);

}  // namespace featpipe
