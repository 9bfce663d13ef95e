// The contract between the cnn plugin and its torch module
// (libfeatpipe_cnn_torch.so, built from torch_backend.cpp when libtorch is
// found): the module exports
//
//   extern "C" OpenBackend featpipe_cnn_torch_factory(unsigned version);
//
// which returns its open function, or null for another version of this
// contract (a module left over from another build). Both sides share
// backend.hpp's C++ types, so they come from one build.
#pragma once

#include "backend.hpp"

namespace featpipe::cnn {

inline constexpr unsigned kTorchModuleVersion = 1;
inline constexpr const char* kTorchModuleFactory = "featpipe_cnn_torch_factory";
// Where the module lives relative to the cnn plugin's folder: a subfolder,
// as the engine loads every .so in the plugin folder as a plugin.
inline constexpr const char* kTorchModuleFile = "cnn/libfeatpipe_cnn_torch.so";

}  // namespace featpipe::cnn
