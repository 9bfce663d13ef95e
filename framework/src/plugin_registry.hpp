// Loading stage plugins: dlopen, the entry symbol, the ABI check, and the
// set of stages a pipeline can see (with duplicate detection).
#pragma once

#include <featpipe/plugin.h>

#include "host.hpp"

#include <map>
#include <string>
#include <vector>

namespace featpipe {

// A loaded plugin. `plugin` is the engine's copy of what the plugin
// declared, in this build's layout (plugin.h, rule 2: fields the plugin's
// minor lacks are zero, later ones dropped), so the rest of the engine
// indexes stages[] and params[] plainly.
struct LoadedPlugin {
  std::string file;  // canonical path
  const fp_plugin* plugin = nullptr;
  const fp_plugin* raw = nullptr;  // as the plugin returned it
  fp_plugin copy{};
  std::vector<fp_stage_desc> stages;
  std::vector<std::vector<fp_param_desc>> params;
  PluginHost host;  // what init() was given
};

// Opens a plugin file once per process (handles are never closed: stage
// code must stay mapped while any instance lives) and calls its init.
// Throws Error naming the file: not loadable, no entry symbol, another ABI
// major, malformed descriptors, init refused.
const LoadedPlugin& open_plugin(const std::string& file);

// "2.0.0"; "1" for a plugin of ABI 1, whose header had a single number.
std::string abi_text(const fp_version& v);

std::string builtin_plugin_dir();

// A folder's index (featpipe-plugins.index, written at build time) names
// the stages of each plugin in it, so a pipeline loads only the plugins it
// uses: the image plugins' OpenCV costs an audio run ~60 ms otherwise.
constexpr const char* kPluginIndexName = "featpipe-plugins.index";
struct PluginFile {
  std::string path;
  bool indexed = false;
  std::vector<std::string> stages;  // from the index, when indexed
};
// The plugin folder installed/built with the engine, then each folder of
// FEATPIPE_PLUGIN_PATH: every *.so in them, in that order.
std::vector<PluginFile> default_plugins();

struct StageEntry {
  const fp_stage_desc* desc = nullptr;     // null until the plugin is loaded
  const LoadedPlugin* plugin = nullptr;
  std::string file;                        // the plugin file (canonical)
};

// The stages one pipeline sees.
class StageSet {
 public:
  // Adds every stage of the plugin; a name already provided by another
  // file is an Error naming both files. The same file twice is a no-op.
  void add(const LoadedPlugin& p);
  // Adds the stages an index says `file` provides, without loading it.
  void add_indexed(const std::string& file, const std::vector<std::string>& stages);
  // Loads an indexed plugin on first use (an Error if the index lied).
  const StageEntry* find(const std::string& name);
  std::vector<std::string> names() const;
  const std::vector<const LoadedPlugin*>& plugins() const { return plugins_; }

 private:
  std::map<std::string, StageEntry> stages_;
  std::vector<const LoadedPlugin*> plugins_;
};

}  // namespace featpipe
