#include "plugin_registry.hpp"

#include <featpipe/featpipe.hpp>

#include "util.hpp"

#include <dlfcn.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <fstream>
#include <mutex>

#include <nlohmann/json.hpp>

namespace fs = std::filesystem;

namespace featpipe {

const LoadedPlugin& open_plugin(const std::string& file) {
  static std::mutex mu;
  static std::map<std::string, std::unique_ptr<LoadedPlugin>> cache;

  std::error_code ec;
  if (!fs::exists(file, ec)) throw Error("plugin " + file + ": no such file");
  const std::string canon = fs::canonical(file, ec).string();
  std::lock_guard<std::mutex> lock(mu);
  if (auto it = cache.find(canon); it != cache.end()) return *it->second;

  void* handle = dlopen(canon.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    const char* why = dlerror();
    throw Error("plugin " + canon + ": cannot load: " + (why ? why : "unknown reason"));
  }
  auto entry = reinterpret_cast<fp_plugin_entry_fn>(dlsym(handle, FP_PLUGIN_ENTRY_SYMBOL));
  if (!entry) {
    dlclose(handle);
    throw Error("plugin " + canon + ": no '" FP_PLUGIN_ENTRY_SYMBOL "' symbol (not a featpipe plugin?)");
  }
  const fp_plugin* p = entry();
  if (!p) {
    dlclose(handle);
    throw Error("plugin " + canon + ": entry point returned nothing");
  }
  if (p->abi_version != FP_ABI_VERSION) {
    const unsigned got = p->abi_version;
    dlclose(handle);
    throw Error("plugin " + canon + ": built for plugin ABI version " + std::to_string(got) +
                ", this featpipe " FEATPIPE_VERSION " loads ABI version " + std::to_string(FP_ABI_VERSION) +
                " (rebuild the plugin against this featpipe's SDK)");
  }
  auto lp = std::make_unique<LoadedPlugin>();
  lp->file = canon;
  lp->plugin = p;
  return *cache.emplace(canon, std::move(lp)).first->second;
}

std::string builtin_plugin_dir() {
  // The engine library's own folder: <prefix>/lib/libfeatpipe.so ->
  // <prefix>/lib/featpipe/plugins (the build tree mirrors this layout).
  Dl_info info{};
  if (dladdr(reinterpret_cast<void*>(&builtin_plugin_dir), &info) && info.dli_fname) {
    std::error_code ec;
    fs::path lib = fs::canonical(info.dli_fname, ec);
    if (!ec) return (lib.parent_path() / "featpipe" / "plugins").string();
  }
  return {};
}

namespace {
std::vector<std::string> plugin_folders() {
  std::vector<std::string> dirs{builtin_plugin_dir()};
  if (const char* env = std::getenv("FEATPIPE_PLUGIN_PATH"))
    for (const auto& dir : util::split(env, ':'))
      if (!dir.empty()) dirs.push_back(dir);
  return dirs;
}
}  // namespace

static void add_folder(const fs::path& dir, std::vector<std::string>& out) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return;
  std::vector<std::string> found;
  for (const auto& e : fs::directory_iterator(dir, ec))
    if (e.path().extension() == ".so" && e.is_regular_file(ec)) found.push_back(e.path().string());
  std::sort(found.begin(), found.end());
  out.insert(out.end(), found.begin(), found.end());
}

std::vector<PluginFile> default_plugins() {
  std::vector<PluginFile> out;
  for (const auto& dir : plugin_folders()) {
    std::vector<std::string> files;
    add_folder(dir, files);
    nlohmann::json index;
    std::error_code ec;
    if (fs::is_regular_file(fs::path(dir) / kPluginIndexName, ec)) {
      index = nlohmann::json::parse(util::read_file((fs::path(dir) / kPluginIndexName).string()), nullptr, false);
      if (index.is_discarded() || index.value("abi", 0u) != FP_ABI_VERSION || !index.contains("plugins")) index = {};
    }
    for (const auto& f : files) {
      PluginFile pf;
      pf.path = fs::canonical(f, ec).string();
      const std::string name = fs::path(f).filename().string();
      if (index.is_object() && index["plugins"].contains(name) && index["plugins"][name].is_array()) {
        pf.indexed = true;
        for (const auto& st : index["plugins"][name]) pf.stages.push_back(st.get<std::string>());
      }
      out.push_back(std::move(pf));
    }
  }
  return out;
}

void write_plugin_index(const std::string& dir) {
  std::vector<std::string> files;
  add_folder(dir, files);
  nlohmann::json index = {{"abi", FP_ABI_VERSION}, {"plugins", nlohmann::json::object()}};
  StageSet all;  // duplicates are an error here too
  for (const auto& f : files) {
    const LoadedPlugin& p = open_plugin(f);
    all.add(p);
    auto names = nlohmann::json::array();
    for (uint32_t k = 0; k < p.plugin->stage_count; ++k) names.push_back(p.plugin->stages[k].name);
    index["plugins"][fs::path(f).filename().string()] = names;
  }
  const fs::path tmp = fs::path(dir) / (std::string(kPluginIndexName) + ".tmp");
  {
    std::ofstream os(tmp);
    os << index.dump(2) << "\n";
    if (!os) throw Error(tmp.string() + ": cannot write");
  }
  fs::rename(tmp, fs::path(dir) / kPluginIndexName);
}

void StageSet::add(const LoadedPlugin& p) {
  if (std::find(plugins_.begin(), plugins_.end(), &p) != plugins_.end()) return;
  size_t from_index = 0;
  for (uint32_t k = 0; k < p.plugin->stage_count; ++k) {
    const fp_stage_desc* d = &p.plugin->stages[k];
    auto [it, fresh] = stages_.emplace(d->name, StageEntry{d, &p, p.file});
    if (!fresh && it->second.file == p.file && !it->second.desc) {  // indexed before: now loaded
      it->second.desc = d;
      it->second.plugin = &p;
      ++from_index;
    } else if (!fresh) {
      throw Error("stage '" + std::string(d->name) + "' is provided by two plugins: " + it->second.file + " and " + p.file);
    }
  }
  for (const auto& [name, e] : stages_)
    if (e.file == p.file && !e.desc)
      throw Error("plugin " + p.file + ": its folder's " + kPluginIndexName + " lists stage '" + name +
                  "', which the plugin does not provide: the index is out of date (rebuild or reinstall featpipe)");
  plugins_.push_back(&p);
}

void StageSet::add_indexed(const std::string& file, const std::vector<std::string>& stages) {
  for (const auto& name : stages) {
    auto [it, fresh] = stages_.emplace(name, StageEntry{nullptr, nullptr, file});
    if (!fresh && it->second.file != file)
      throw Error("stage '" + name + "' is provided by two plugins: " + it->second.file + " and " + file);
  }
}

const StageEntry* StageSet::find(const std::string& name) {
  auto it = stages_.find(name);
  if (it == stages_.end()) return nullptr;
  if (!it->second.desc) add(open_plugin(it->second.file));
  if (!it->second.desc)
    throw Error("plugin " + it->second.file + " does not provide '" + name + "' as its folder's " + kPluginIndexName +
                " says: the index is out of date (rebuild or reinstall featpipe)");
  return &it->second;
}

std::vector<std::string> StageSet::names() const {
  std::vector<std::string> out;
  for (const auto& [name, e] : stages_) out.push_back(name);
  return out;
}

}  // namespace featpipe

#include "params.hpp"

namespace featpipe {

std::vector<StageDoc> available_stages(const std::vector<std::string>& extra_plugins) {
  StageSet set;
  for (const auto& f : default_plugins()) set.add(open_plugin(f.path));  // all loaded: docs come from them
  for (const auto& f : extra_plugins) set.add(open_plugin(f));
  std::vector<StageDoc> out;
  for (const auto& name : set.names()) {
    const StageEntry* e = set.find(name);
    const fp_stage_desc& d = *e->desc;
    StageDoc s{d.name, d.doc ? d.doc : "", d.example ? d.example : "", d.extensions ? d.extensions : "",
               e->plugin->plugin->name, e->plugin->plugin->version, e->plugin->file, {}};
    for (uint32_t k = 0; k < d.param_count; ++k) {
      const fp_param_desc& p = d.params[k];
      s.params.push_back({p.name, type_text(p), p.default_value ? p.default_value : "(required)", p.unit ? p.unit : "",
                          p.doc ? p.doc : ""});
    }
    out.push_back(std::move(s));
  }
  return out;
}

std::vector<std::string> closest_names(const std::string& wanted, const std::vector<std::string>& names) {
  return util::closest(wanted, names);
}

}  // namespace featpipe
