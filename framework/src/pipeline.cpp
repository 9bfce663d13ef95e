#include "engine.hpp"
#include "util.hpp"

#include <filesystem>

namespace fs = std::filesystem;

namespace featpipe {

// ------------------------------------------------------------ StageHandle

StageHandle::StageHandle(const StepDef& def, const std::string& file) : def_(&def) {
  const auto& values = def.params.raw();  // built at load, shared by every session
  st_ = def.stage->desc->create(values.data(), static_cast<uint32_t>(values.size()));
  if (!st_) throw Error(where(file, def.mark) + ": " + def.context + ": could not create the stage (out of memory)");
  if (!FP_HAS_FIELD(st_, fp_stage, get_extension)) {  // plugin.h, rule 2: 2.0's fields are all there
    const std::string size = std::to_string(st_->struct_size);
    if (FP_HAS_FIELD(st_, fp_stage, destroy)) st_->destroy(st_);
    throw Error(where(file, def.mark) + ": " + def.context + ": malformed instance (fp_stage.struct_size " + size + ")");
  }
}

StageHandle::~StageHandle() {
  if (st_) st_->destroy(st_);
}

StageHandle::StageHandle(StageHandle&& o) noexcept : st_(o.st_), def_(o.def_) { o.st_ = nullptr; }

void StageHandle::check(fp_status status) const {
  if (status == FP_OK) return;
  const char* param = nullptr;
  const char* msg = st_->error(st_, &param);
  throw Error(def_->context + ": " + (msg && *msg ? msg : "failed"));
}

// ------------------------------------------------------------ Pipeline

Pipeline::Pipeline(std::unique_ptr<const Impl> impl) : impl_(std::move(impl)) {}
Pipeline::~Pipeline() = default;

std::shared_ptr<const Pipeline> Pipeline::load(const std::string& path, const LoadOptions& opts) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) throw Error(path + ": no such pipeline file");
  std::string text;
  try {
    text = util::read_file(path);
  } catch (const Error&) {
    throw Error(path + ": cannot read the pipeline file");
  }
  fs::path dir = fs::absolute(path, ec).parent_path();
  return parse(text, path, dir.string(), opts);
}

std::shared_ptr<const Pipeline> Pipeline::parse(const std::string& yaml_text, const std::string& source_name,
                                                const std::string& base_dir, const LoadOptions& opts) {
  auto impl = std::make_unique<PipelineImpl>();
  impl->file = source_name;
  impl->base_dir = base_dir;
  impl->text = yaml_text;
  load_pipeline(*impl, yaml_text, opts);
  return Internal::make(std::unique_ptr<const PipelineImpl>(std::move(impl)));
}

const std::string& Pipeline::name() const { return impl_->name; }
const std::string& Pipeline::file() const { return impl_->file; }
const std::vector<StepInfo>& Pipeline::steps() const { return impl_->infos; }
bool Pipeline::has_source() const { return impl_->source; }
std::optional<size_t> Pipeline::batch_only_step() const { return impl_->batch_only; }
bool Pipeline::streams_files() const { return impl_->chunked_files; }
double Pipeline::latency_samples() const { return impl_->latency; }
const std::vector<std::string>& Pipeline::warnings() const { return impl_->warnings; }

std::vector<std::string> Pipeline::extensions() const {
  if (!impl_->source) return {};
  std::vector<std::string> out;
  const char* types = impl_->steps.front().stage->desc->extensions;
  for (const auto& e : util::split(types ? types : "", ' '))
    if (!e.empty()) out.push_back(util::lower(e));
  return out;
}

std::string Pipeline::provenance_json() const {
  nlohmann::json j;
  j["featpipe_version"] = FEATPIPE_VERSION;
  j["plugin_abi"] = FP_ABI_VERSION_STRING;
  j["pipeline"] = {{"file", impl_->file}, {"name", impl_->name}, {"sha256", util::sha256_hex(impl_->text)}};
  auto steps = nlohmann::json::array();
  for (const auto& s : impl_->steps) {
    nlohmann::json st = {{"use", s.use},
                         {"params", s.params.to_json()},
                         {"output_axes", s.out.axes_text()},
                         {"plugin", {{"name", s.stage->plugin->plugin->name}, {"version", s.stage->plugin->plugin->version}}}};
    if (!s.id.empty()) st["id"] = s.id;
    // Files a step reads (models) decide its numbers as much as its code.
    for (const auto& pv : s.params.values())
      if (pv.desc->type == FP_T_PATH && !pv.is_null && fs::is_regular_file(pv.s))
        st["files"][pv.desc->name] = {{"path", pv.s}, {"sha256", util::sha256_file(pv.s)}};
    steps.push_back(st);
  }
  j["steps"] = steps;
  auto plugins = nlohmann::json::array();
  for (const auto* lp : impl_->stages.plugins()) {
    bool used = false;
    for (const auto& s : impl_->steps) used |= s.stage->plugin == lp;
    if (used)
      plugins.push_back({{"file", lp->file}, {"name", lp->plugin->name}, {"version", lp->plugin->version},
                         {"sha256", util::sha256_file(lp->file)}});
  }
  j["plugins"] = plugins;
  return j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace featpipe
