// Temporary files (".NAME.tmp-PID-W@HOST", see atomic_file) left in an output
// folder by a process that died before renaming them (kill -9, power loss).
#pragma once

#include <string>
#include <vector>

namespace featpipe {

// Removes, under `outdir`, the temporary files of processes of this host that
// no longer run; those of other hosts (shards sharing the folder over a
// network file system) and of live processes stay. Returns the paths removed.
std::vector<std::string> remove_stale_temporaries(const std::string& outdir);

// Whether `name` is such a temporary file; fills its pid and host ("" for the
// older ".NAME.tmp-PID-W", taken as this host's).
bool parse_temporary_name(const std::string& name, long& pid, std::string& host);

}  // namespace featpipe
