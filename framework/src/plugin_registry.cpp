#include "plugin_registry.hpp"

#include <featpipe/featpipe.hpp>

#include "util.hpp"

#include <dlfcn.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <fstream>
#include <mutex>

#include <nlohmann/json.hpp>

namespace fs = std::filesystem;

namespace featpipe {

std::string abi_text(const fp_version& v) {
  if (v.major < 2) return std::to_string(v.major);
  return std::to_string(v.major) + "." + std::to_string(v.minor) + "." + std::to_string(v.patch);
}

namespace {

// Bytes up to and including `field`: what a struct of ABI 2.0 holds at least.
#define FP_SIZE_THROUGH(type, field) (offsetof(type, field) + sizeof(static_cast<type*>(nullptr)->field))

// Copies an array of `count` structs written with their own struct_size into
// this build's layout (plugin.h, rule 2). Throws when smaller than 2.0's.
template <class T>
std::vector<T> copy_structs(const T* first, uint32_t count, size_t min_size, const std::string& what,
                            const std::string& file) {
  std::vector<T> out(count);  // value-initialized: missing fields are zero
  if (!count) return out;
  const size_t stride = first->struct_size;
  const auto* bytes = reinterpret_cast<const unsigned char*>(first);
  for (uint32_t k = 0; k < count; ++k) {
    const T* from = reinterpret_cast<const T*>(bytes + k * stride);
    if (from->struct_size != stride || stride < min_size)
      throw Error("plugin " + file + ": malformed " + what + " (struct_size " + std::to_string(from->struct_size) +
                  "; ABI " FP_ABI_VERSION_STRING " needs at least " + std::to_string(min_size) + ", the same for every entry)");
    std::memcpy(&out[k], from, std::min(stride, sizeof(T)));
    out[k].struct_size = sizeof(T);
  }
  return out;
}

// The engine's copy of what the plugin declared, checked.
void read_descriptors(LoadedPlugin& lp, const fp_plugin* p) {
  lp.raw = p;
  lp.copy = copy_structs(p, 1, FP_SIZE_THROUGH(fp_plugin, get_extension), "fp_plugin", lp.file).front();
  lp.stages = copy_structs(p->stages, p->stage_count, FP_SIZE_THROUGH(fp_stage_desc, create), "fp_stage_desc", lp.file);
  for (fp_stage_desc& d : lp.stages) {
    if (!d.name || !d.create) throw Error("plugin " + lp.file + ": a stage without a name or a create function");
    lp.params.push_back(copy_structs(d.params, d.param_count, FP_SIZE_THROUGH(fp_param_desc, doc),
                                     "fp_param_desc of " + std::string(d.name), lp.file));
    d.params = lp.params.back().data();
  }
  lp.copy.stages = lp.stages.data();
  lp.plugin = &lp.copy;
}

}  // namespace

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
  // Only the version is read from a plugin of another major.
  if (p->abi.major != FP_ABI_MAJOR) {
    const std::string got = abi_text(p->abi);
    dlclose(handle);
    throw Error("plugin " + canon + ": built for plugin ABI " + got + ", this featpipe " FEATPIPE_VERSION
                " loads plugin ABI " FP_STRINGIFY(FP_ABI_MAJOR) ".x (it is " FP_ABI_VERSION_STRING
                "; rebuild the plugin against this featpipe's SDK)");
  }
  auto lp = std::make_unique<LoadedPlugin>();
  lp->file = canon;
  try {
    read_descriptors(*lp, p);
  } catch (...) {
    dlclose(handle);
    throw;
  }
  init_host(lp->host, lp->copy.name ? lp->copy.name : canon);
  if (lp->copy.init && lp->copy.init(&lp->host.host) != FP_OK)  // kept open: init may have started things
    throw Error("plugin " + canon + ": its init refused to start (its log lines say why)");
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
      // Written by an engine of this ABI major (older indexes had a number).
      const bool ours = !index.is_discarded() && index.contains("abi") && index["abi"].is_object() &&
                        index["abi"].value("major", 0u) == unsigned(FP_ABI_MAJOR);
      if (!ours || !index.contains("plugins")) index = {};
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
  nlohmann::json index = {{"abi", {{"major", FP_ABI_MAJOR}, {"minor", FP_ABI_MINOR}}}, {"plugins", nlohmann::json::object()}};
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
    StageDoc s;
    s.name = d.name;
    s.doc = d.doc ? d.doc : "";
    s.example = d.example ? d.example : "";
    s.extensions = d.extensions ? d.extensions : "";
    s.plugin_name = e->plugin->plugin->name;
    s.plugin_version = e->plugin->plugin->version;
    s.plugin_file = e->plugin->file;
    s.source = (d.flags & FP_STAGE_SOURCE) != 0;
    for (uint32_t k = 0; k < d.param_count; ++k) {
      const fp_param_desc& p = d.params[k];
      ParamDoc pd;
      pd.name = p.name;
      pd.type = type_text(p);
      pd.default_value = p.default_value ? p.default_value : "(required)";
      pd.unit = p.unit ? p.unit : "";
      pd.doc = p.doc ? p.doc : "";
      pd.kind = kind_text(p.type);
      if (p.type == FP_T_CHOICE && p.choices) pd.choices = util::split(p.choices, '|');
      if (p.min <= p.max) {  // min > max: unbounded
        if (std::isfinite(p.min)) pd.min = p.min;
        if (std::isfinite(p.max)) pd.max = p.max;
      }
      pd.min_count = p.min_count;
      pd.max_count = p.max_count;
      pd.required = !p.default_value;
      pd.nullable = p.nullable != 0;
      s.params.push_back(std::move(pd));
    }
    out.push_back(std::move(s));
  }
  return out;
}

std::string builtin_plugin_folder() { return builtin_plugin_dir(); }

std::vector<std::string> closest_names(const std::string& wanted, const std::vector<std::string>& names) {
  return util::closest(wanted, names);
}

}  // namespace featpipe
