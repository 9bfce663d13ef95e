// Whole files written under a temporary name in the same folder, then
// renamed: a killed run never leaves a truncated file under the final name.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace featpipe {

// The temporary beside `out` for `writer` of this process:
// DIR/.NAME.tmp-PID-WRITER@HOST (stale_tmp.hpp removes those of dead pids).
std::filesystem::path temporary_path(const std::filesystem::path& out, int writer);

// XXH3-64 of a file's bytes as write_atomic reports it; "" when unreadable.
std::string file_xxh3(const std::filesystem::path& file);
// The same of `bytes` bytes from `offset` (an archive's entry); "" when
// they cannot all be read.
std::string file_xxh3(const std::filesystem::path& file, int64_t offset, int64_t bytes);
// The same of bytes in memory.
std::string bytes_xxh3(std::string_view bytes);

// Creates the parent folders; `body` writes the content. The temporary name
// holds the process id and `writer`, so concurrent writers never share one.
// Throws Error ("cannot write OUT: why"), leaving no temporary file.
struct Written {
  int64_t bytes = 0;
  std::string xxh3;  // XXH3-64 of every byte written, 16 hex digits (as `xxhsum -H3` prints it)
};
Written write_atomic(const std::filesystem::path& out, const std::function<void(std::ostream&)>& body, int writer);

}  // namespace featpipe
