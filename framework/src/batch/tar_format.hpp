// The parts of the tar format a shard needs: POSIX ustar headers, with a
// pax extended header for a name longer than ustar's 100 bytes (Python's
// tarfile, GNU tar and webdataset read both), and a reader of members.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace featpipe::tar {

constexpr size_t kBlock = 512;

// The header block(s) before a regular file member's data.
std::string member_header(const std::string& name, uint64_t size, int64_t mtime);
// Zero bytes after `size` bytes of data, to the next block.
inline size_t padding(uint64_t size) { return static_cast<size_t>((kBlock - size % kBlock) % kBlock); }
// The end of an archive: two zero blocks.
inline std::string end_blocks() { return std::string(2 * kBlock, '\0'); }

struct Member {
  std::string name;
  uint64_t offset = 0;  // of the data in the file
  uint64_t size = 0;
};
// The regular file members of `file`, in order (pax `path` and GNU long
// names applied). Throws Error for a file that is not a whole archive: a
// bad checksum, a member running past the end, no end blocks.
std::vector<Member> members(const std::filesystem::path& file);

}  // namespace featpipe::tar
