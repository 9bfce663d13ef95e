#include "inputs.hpp"

#include <featpipe/featpipe.hpp>

#include "../util.hpp"
#include "names.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

namespace fs = std::filesystem;

namespace featpipe {

namespace {

std::string kind_of(fs::file_type t) {
  switch (t) {
    case fs::file_type::fifo: return "special file (FIFO)";
    case fs::file_type::socket: return "special file (socket)";
    case fs::file_type::block: return "special file (block device)";
    case fs::file_type::character: return "special file (character device)";
    default: return "special file";
  }
}

class Walker {
 public:
  Walker(const std::vector<std::string>& extensions, const ListOptions& lo, InputList& out)
      : extensions_(extensions), out_(out), missing_fails_alone_(lo.missing_fails_alone) {
    struct stat st;
    if (!lo.outdir.empty() && ::stat(lo.outdir.c_str(), &st) == 0) {
      out_dev_ = st.st_dev;
      out_ino_ = st.st_ino;
      have_out_ = true;
    }
  }

  void arg(const std::string& a) {
    std::error_code ec;
    const fs::file_status st = fs::status(a, ec);
    if (ec || !fs::exists(st)) {
      const fs::file_status lst = fs::symlink_status(a, ec);
      if (fs::is_symlink(lst)) return broken_link(a, true);
      if (missing_fails_alone_) {
        out_.files.push_back({a, fs::path(a).filename().string(), "", "no such file"});
        return;
      }
      throw Error(util::printable(a) + ": no such file or folder");
    }
    if (fs::is_directory(st)) {
      std::vector<InputFile> found;
      walk(a, found);
      std::sort(found.begin(), found.end(), [](const auto& x, const auto& y) { return x.rel < y.rel; });
      out_.files.insert(out_.files.end(), found.begin(), found.end());
    } else if (fs::is_regular_file(st)) {
      // A file named directly is taken whatever its extension: the user asked.
      out_.files.push_back({a, fs::path(a).filename().string()});
    } else {
      miss(a, kind_of(st.type()) + ", not read", true);
    }
  }

 private:
  bool wanted(const fs::path& p) const {
    std::string ext = p.extension().string();
    if (!ext.empty()) ext = util::lower(ext.substr(1));
    return std::find(extensions_.begin(), extensions_.end(), ext) != extensions_.end();
  }

  void miss(const std::string& path, std::string why, bool missed, bool folder = false) {
    out_.not_taken_list.push_back({path, std::move(why), missed, folder});
  }

  void broken_link(const std::string& path, bool given) {
    std::error_code ec;
    (void)fs::status(path, ec);
    const bool loop = ec.value() == ELOOP;
    miss(path, loop ? "symbolic link loop" : "dangling symbolic link", given || wanted(path));
  }

  // Why `dir` is left out of the walk, or "" to walk it.
  std::string excluded(const fs::path& dir) const {
    struct stat st;
    if (have_out_ && ::stat(dir.c_str(), &st) == 0 && st.st_dev == out_dev_ && st.st_ino == out_ino_)
      return "the run's output folder, not walked";
    std::error_code ec;
    if (fs::exists(dir / "provenance.json", ec) || fs::exists(dir / "manifest.jsonl", ec))
      return "a featpipe output folder (holds provenance.json or manifest.jsonl), not walked";
    return "";
  }

  void walk(const std::string& root, std::vector<InputFile>& found) {
    std::vector<fs::path> todo{root};
    while (!todo.empty()) {
      const fs::path dir = std::move(todo.back());
      todo.pop_back();
      if (std::string why = excluded(dir); !why.empty()) {
        miss(dir.string(), why, false, true);
        continue;
      }
      std::error_code ec;
      fs::directory_iterator it(dir, ec), end;
      if (ec) {
        miss(dir.string(), "unreadable folder: " + ec.message(), true, true);
        continue;
      }
      for (; it != end; it.increment(ec)) {
        if (ec) break;
        entry(*it, root, found, todo);
      }
      if (ec) miss(dir.string(), "folder listing stopped: " + ec.message(), true, true);
    }
  }

  void entry(const fs::directory_entry& e, const std::string& root, std::vector<InputFile>& found,
             std::vector<fs::path>& todo) {
    std::error_code ec;
    const fs::file_status lst = e.symlink_status(ec);
    if (fs::is_directory(lst)) return todo.push_back(e.path());
    const fs::file_status st = e.status(ec);
    if (ec || !fs::exists(st)) {
      if (fs::is_symlink(lst)) return broken_link(e.path().string(), false);
      return miss(e.path().string(), "cannot be read: " + ec.message(), wanted(e.path()));
    }
    if (fs::is_directory(st)) return miss(e.path().string(), "symbolic link to a folder, not followed", false, true);
    if (!fs::is_regular_file(st)) return miss(e.path().string(), kind_of(st.type()) + ", not read", wanted(e.path()));
    if (!wanted(e.path())) {
      ++out_.not_taken;
      std::string ext = e.path().extension().string();
      return miss(e.path().string(), ext.empty() ? "no extension" : "extension " + ext + " not read", false);
    }
    // Lexical: the walk yields ROOT/sub/x, and resolving links per file (fs::relative)
    // cost ~10 readlink calls each.
    found.push_back({e.path().string(), e.path().lexically_relative(root).generic_string()});
  }

  const std::vector<std::string>& extensions_;
  InputList& out_;
  bool missing_fails_alone_ = false;
  bool have_out_ = false;
  dev_t out_dev_{};
  ino_t out_ino_{};
};

}  // namespace

InputList list_inputs(const std::vector<std::string>& args, const std::vector<std::string>& extensions,
                      const ListOptions& lo) {
  InputList out;
  Walker w(extensions, lo, out);
  for (const auto& a : args) w.arg(a);
  return out;
}

}  // namespace featpipe
