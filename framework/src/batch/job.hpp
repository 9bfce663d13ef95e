// Running one job: an input through a session into a sink. No threads, no
// shared state but the sink: the executors call this, tests call it directly.
#pragma once

#include "manifest_entry.hpp"
#include "plan.hpp"
#include "scp_command.hpp"
#include "sink.hpp"

namespace featpipe {

// Never throws for the input's own failures (decoding, a stage, the sink,
// out of memory): they become an error entry. `worker` is passed to the sink.
// A command input (job.command) runs as `commands` says.
// With `chunked` (why_files_not_streamed() is "") a file input's frames go to the
// sink's ChunkWriter as they come, when the sink has one.
ManifestEntry run_job(const Job& job, Session& session, Sink& sink, int worker, const CommandOptions& commands = {},
                      bool chunked = false);


}  // namespace featpipe
