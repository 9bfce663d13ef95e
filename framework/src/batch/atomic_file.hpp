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

}  // namespace featpipe
