// File names as bytes: Linux names need not be UTF-8 and may hold control
// characters. Kept byte-exact everywhere; escaped only where shown to people
// (stderr) and base64-encoded beside the JSON text where not UTF-8.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace featpipe::util {

bool valid_utf8(std::string_view s);
// Offset of the first byte that is not part of valid UTF-8, or npos.
size_t first_invalid_utf8(std::string_view s);
std::string base64(std::string_view bytes);
// Nullopt when `text` is not base64.
std::optional<std::string> unbase64(std::string_view text);
// For a terminal: control characters as \n, \t, \r, \\, \xHH; bytes that are
// not UTF-8 as \xHH; everything else as is.
std::string printable(std::string_view s);

}  // namespace featpipe::util
