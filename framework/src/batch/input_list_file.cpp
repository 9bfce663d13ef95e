#include "input_list_file.hpp"

#include <featpipe/featpipe.hpp>

#include "names.hpp"

#include <filesystem>
#include <fstream>
#include <iostream>
#include <unordered_map>

namespace featpipe {

namespace {

constexpr const char* kSpace = " \t\r\f\v";

bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

// Why `id` cannot name an output under the folder, or "".
std::string bad_id(const std::string& id) {
  if (id.front() == '/') return "it starts with /";
  size_t at = 0;
  while (at <= id.size()) {
    const size_t slash = std::min(id.find('/', at), id.size());
    const std::string part = id.substr(at, slash - at);
    if (part.empty() || part == "." || part == "..") return "it has an empty, . or .. path component";
    at = slash + 1;
  }
  return "";
}

InputList read_scp(std::istream& is, const std::string& file, bool allow_commands) {
  const std::string name = file == "-" ? "stdin" : file;
  InputList out;
  std::unordered_map<std::string, size_t> line_of;  // id -> its line
  std::string errors;
  size_t n_errors = 0;
  auto refuse = [&](size_t line, const std::string& why) {
    if (++n_errors <= 10) errors += "\n  " + util::printable(name) + ":" + std::to_string(line) + ": " + why;
  };
  size_t n = 0;
  for (std::string line; std::getline(is, line);) {
    ++n;
    const size_t b = line.find_first_not_of(kSpace);
    if (b == std::string::npos) continue;
    const size_t id_end = std::min(line.find_first_of(kSpace, b), line.size());
    const std::string id = line.substr(b, id_end - b);
    const size_t pb = line.find_first_not_of(kSpace, id_end);
    const std::string path = pb == std::string::npos ? "" : line.substr(pb, line.find_last_not_of(kSpace) + 1 - pb);
    const std::string shown = util::printable(id);
    if (path.empty()) {
      refuse(n, "utterance " + shown + " has no path (expected `UTT-ID PATH`)");
      continue;
    }
    const bool command = path.back() == '|';
    if (command && !allow_commands) {
      refuse(n, "utterance " + shown + " is a piped command (" + util::printable(path) +
                    "); --allow-commands runs such commands through /bin/sh (only for a trusted list), "
                    "or write the command's output to a file and list that");
      continue;
    }
    if (command && path.find_first_not_of(std::string(kSpace) + "|") == std::string::npos) {
      refuse(n, "utterance " + shown + " has an empty command");
      continue;
    }
    if (path == "-") {
      refuse(n, "utterance " + shown + " reads stdin (-); featpipe reads files only");
      continue;
    }
    if (std::string why = bad_id(id); !why.empty()) {
      refuse(n, "utterance id " + shown + " cannot name an output: " + why);
      continue;
    }
    auto [it, fresh] = line_of.emplace(id, n);
    if (!fresh) {
      refuse(n, "utterance id " + shown + " again (first on line " + std::to_string(it->second) + ")");
      continue;
    }
    InputFile f{path, id, id, ""};
    f.command = command;
    std::error_code ec;
    if (!command && !std::filesystem::exists(path, ec)) f.error = "no such file";
    out.files.push_back(std::move(f));
  }
  if (is.bad()) throw Error(util::printable(name) + ": cannot read the input list");
  if (n_errors)
    throw Error(util::printable(name) + ": " + std::to_string(n_errors) + (n_errors == 1 ? " line" : " lines") +
                " refused; nothing was run:" + errors + (n_errors > 10 ? "\n  ..." : ""));
  return out;
}

}  // namespace

InputList read_input_list(std::istream& is, const std::string& name, ListForm form,
                          const std::vector<std::string>& extensions, const ListOptions& lo) {
  if (form == ListForm::automatic) form = ends_with(name, ".scp") ? ListForm::scp : ListForm::paths;
  if (form == ListForm::scp) return read_scp(is, name, lo.allow_commands);
  std::vector<std::string> paths;
  for (std::string line; std::getline(is, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();  // a list written on Windows
    if (line.find_first_not_of(kSpace) != std::string::npos) paths.push_back(line);
  }
  if (is.bad()) throw Error(util::printable(name) + ": cannot read the input list");
  ListOptions o = lo;
  o.missing_fails_alone = true;
  return list_inputs(paths, extensions, o);
}

InputList read_input_list(const std::string& from, ListForm form, const std::vector<std::string>& extensions,
                          const ListOptions& lo) {
  if (from == "-") return read_input_list(std::cin, from, form, extensions, lo);
  std::ifstream is(from);
  if (!is) throw Error(util::printable(from) + ": cannot read the input list");
  return read_input_list(is, from, form, extensions, lo);
}

}  // namespace featpipe
