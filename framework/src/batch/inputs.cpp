#include "inputs.hpp"

#include <featpipe/featpipe.hpp>

#include "../util.hpp"

#include <algorithm>
#include <filesystem>

namespace fs = std::filesystem;

namespace featpipe {

InputList list_inputs(const std::vector<std::string>& args, const std::vector<std::string>& extensions) {
  InputList out;
  auto wanted = [&](const fs::path& p) {
    std::string ext = p.extension().string();
    if (!ext.empty()) ext = util::lower(ext.substr(1));
    return std::find(extensions.begin(), extensions.end(), ext) != extensions.end();
  };
  for (const auto& arg : args) {
    std::error_code ec;
    fs::file_status st = fs::status(arg, ec);
    if (ec || !fs::exists(st)) throw Error(arg + ": no such file or folder");
    if (fs::is_directory(st)) {
      std::vector<InputFile> found;
      fs::recursive_directory_iterator it(arg, fs::directory_options::skip_permission_denied, ec), end;
      if (ec) throw Error(arg + ": cannot list the folder: " + ec.message());
      for (; it != end; it.increment(ec)) {
        if (ec) break;
        if (!it->is_regular_file(ec)) continue;
        if (!wanted(it->path())) {
          ++out.not_taken;
          continue;
        }
        // Lexical: the walk yields ARG/sub/x, and resolving links per file (fs::relative)
        // cost ~10 readlink calls each.
        found.push_back({it->path().string(), it->path().lexically_relative(arg).generic_string()});
      }
      std::sort(found.begin(), found.end(), [](const auto& a, const auto& b) { return a.rel < b.rel; });
      out.files.insert(out.files.end(), found.begin(), found.end());
    } else {
      // A file named directly is taken whatever its extension: the user asked.
      out.files.push_back({arg, fs::path(arg).filename().string()});
    }
  }
  return out;
}

}  // namespace featpipe
