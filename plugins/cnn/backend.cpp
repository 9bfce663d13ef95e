#include "backend.hpp"

#include <featpipe/sdk.hpp>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <sstream>

namespace featpipe::cnn {
namespace {

// A function-local static: backends register from static initializers of
// other files, whose order is unspecified.
std::vector<BackendEntry>& entries() {
  static std::vector<BackendEntry> list;
  return list;
}

bool opens(const BackendEntry& e, const std::string& ext) {
  std::istringstream is(e.extensions);
  for (std::string x; is >> x;)
    if (x == ext) return true;
  return false;
}

}  // namespace

bool register_backend(const BackendEntry& entry) {
  entries().push_back(entry);
  return true;
}

std::unique_ptr<Backend> open_backend(const std::string& model, const std::string& layer, const std::string& backend) {
  // A folder would reach the backends' readers, whose errors are no help
  // (OpenCV's ONNX reader reports std::bad_alloc).
  std::error_code ec;
  if (std::filesystem::is_directory(model, ec)) throw sdk::Error(model + " is a folder, not a model file", "model");
  std::string ext = std::filesystem::path(model).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  if (!backend.empty()) {
    const BackendEntry* named = nullptr;
    std::string known;
    for (const auto& e : entries()) {
      if (backend == e.name) named = &e;
      known += std::string(known.empty() ? "" : ", ") + e.name;
    }
    if (!named) throw sdk::Error("no cnn.features backend '" + backend + "'; backends: " + known, "backend");
    // A file another backend claims is a mistake; one no backend claims
    // (model.bin) is the named backend's to try.
    if (!opens(*named, ext))
      for (const auto& e : entries())
        if (opens(e, ext))
          throw sdk::Error(sdk::cat("backend: ", named->name, " opens ", named->extensions, " files, not ", model,
                                    " (a ", e.name, " model: set backend: ", e.name, " or leave it null)"),
                           "backend");
    return named->open(model, layer);
  }
  // The highest-priority backend for the extension; for any other file the
  // highest-priority backend of all, whose error then says what it expected.
  const BackendEntry* best = nullptr;
  for (int pass = 0; pass < 2 && !best; ++pass)
    for (const auto& e : entries())
      if ((pass == 1 || opens(e, ext)) && (!best || e.priority > best->priority)) best = &e;
  if (!best) throw sdk::Error("internal: the cnn plugin was built without a backend", "model");
  return best->open(model, layer);
}

}  // namespace featpipe::cnn
