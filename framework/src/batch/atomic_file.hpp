// Whole files written under a temporary name in the same folder, then
// renamed: a killed run never leaves a truncated file under the final name.
#pragma once

#include <filesystem>
#include <functional>
#include <ostream>
#include <vector>

namespace featpipe {

// Creates the parent folders; `body` writes the content. The temporary name
// holds the process id and `writer`, so concurrent writers never share one.
// Throws Error ("cannot write OUT: why"), leaving no temporary file.
void write_atomic(const std::filesystem::path& out, const std::function<void(std::ostream&)>& body, int writer);

// Removes the temporary files that a killed writer (a crashed worker, a
// kill -9 of the run) left for any of `outs`: only these, as other shards
// may be writing theirs in the same folders. Returns how many.
size_t remove_abandoned_temps(const std::vector<std::filesystem::path>& outs);

}  // namespace featpipe
