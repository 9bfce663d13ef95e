// Small helpers shared by the engine's sources.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace featpipe::util {

std::string lower(std::string_view s);
std::vector<std::string> split(std::string_view s, char sep);
// Edit distance, for "did you mean" suggestions.
size_t levenshtein(std::string_view a, std::string_view b);
// Up to `most` names close to `wanted`, closest first.
std::vector<std::string> closest(std::string_view wanted, const std::vector<std::string>& names, size_t most = 3);
// Hex SHA-256 of bytes / of a file's content.
std::string sha256_hex(std::string_view bytes);
std::string sha256_file(const std::string& path);
// Stable 64-bit FNV-1a (sharding must agree across machines and builds).
uint64_t fnv1a64(std::string_view s);
std::string read_file(const std::string& path);
// "a, b, c"
std::string join(const std::vector<std::string>& items, std::string_view sep = ", ");

}  // namespace featpipe::util
