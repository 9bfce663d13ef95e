// The torch backend as the cnn plugin sees it: registered always, for
// TorchScript files, and loaded (libtorch with it) on the first such model
// only, so that `featpipe stages` and pipelines without one start without
// libtorch's load time and memory.
#include "backend.hpp"
#include "torch_module.hpp"

#include <featpipe/sdk.hpp>

#include <dlfcn.h>

#include <filesystem>
#include <mutex>
#include <string>

namespace featpipe::cnn {
namespace {

// Next to this plugin, found from one of its own addresses: the same rule in
// the build tree and in an installed prefix.
std::string module_path() {
  Dl_info info{};
  if (::dladdr(reinterpret_cast<void*>(&module_path), &info) == 0 || !info.dli_fname) return kTorchModuleFile;
  return (std::filesystem::path(info.dli_fname).parent_path() / kTorchModuleFile).string();
}

struct Loaded {
  OpenBackend open = nullptr;
  std::string error;  // why open is null
};

const Loaded& load_module() {
  static Loaded loaded;
  static std::once_flag once;
  std::call_once(once, [] {
    const std::string path = module_path();
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) {
      loaded.error = "the torch backend was not built (libtorch-dev was missing when featpipe was built; no " + path +
                     ")";
      return;
    }
    // Never closed: libtorch does not support being unloaded.
    void* handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!handle) {
      const char* why = ::dlerror();
      loaded.error = "cannot load the torch backend: " + std::string(why ? why : path);
      return;
    }
    using Factory = OpenBackend (*)(unsigned);
    const auto factory = reinterpret_cast<Factory>(::dlsym(handle, kTorchModuleFactory));
    loaded.open = factory ? factory(kTorchModuleVersion) : nullptr;
    if (!loaded.open) loaded.error = "the torch backend " + path + " is from another featpipe build: reinstall featpipe";
  });
  return loaded;
}

std::unique_ptr<Backend> open_torch(const std::string& model, const std::string& layer) {
  const Loaded& m = load_module();
  if (!m.open) throw sdk::Error(sdk::cat("cannot open TorchScript model ", model, ": ", m.error), "model");
  return m.open(model, layer);
}

[[maybe_unused]] const bool registered = register_backend({"torch", ".pt .pth .ts .torchscript", 0, &open_torch});

}  // namespace
}  // namespace featpipe::cnn
