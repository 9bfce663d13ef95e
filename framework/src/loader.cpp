// Pipeline files: parse, resolve stages and parameters, agree shapes.
// Every error names file:line:col of the node at fault.
#include "batch/names.hpp"
#include "engine.hpp"
#include "spec_convert.hpp"
#include "util.hpp"
#include "yaml_checks.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <limits>
#include <set>

namespace fs = std::filesystem;

namespace featpipe {

namespace {

[[noreturn]] void fail(const std::string& file, const YAML::Mark& m, const std::string& msg) {
  throw Error(where(file, m) + ": " + msg);
}

YAML::Node parse_yaml(const std::string& text, const std::string& file) {
  // YAML is UTF-8 text; yaml-cpp would pass other bytes on into names and
  // parameters (and the provenance's JSON) unchecked.
  if (const size_t bad = util::first_invalid_utf8(text); bad != std::string::npos) {
    YAML::Mark m;
    m.line = static_cast<int>(std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(bad), '\n'));
    const size_t line_start = text.rfind('\n', bad == 0 ? 0 : bad - 1);
    m.column = static_cast<int>(line_start == std::string::npos || bad == 0 ? bad : bad - line_start - 1);
    char byte[8];
    std::snprintf(byte, sizeof byte, "0x%02X", static_cast<unsigned char>(text[bad]));
    fail(file, m, std::string("not UTF-8 text (byte ") + byte + "): a pipeline file is YAML, which is UTF-8");
  }
  try {
    return YAML::Load(text);
  } catch (const YAML::ParserException& e) {
    fail(file, e.mark, "YAML syntax error: " + e.msg);
  }
}

std::string scalar(const YAML::Node& n, const std::string& file, const std::string& what) {
  if (!n.IsScalar()) fail(file, n.Mark(), what + " must be a single value");
  return n.Scalar();
}

// Whether canonical `file` lies under folder `dir` (resolved too).
bool under(const fs::path& file, const std::string& dir) {
  std::error_code ec;
  const fs::path root = fs::canonical(dir, ec);
  if (ec || dir.empty()) return false;
  auto [r, f] = std::mismatch(root.begin(), root.end(), file.begin(), file.end());
  return r == root.end();
}

// Refuses, before it is opened (dlopen runs its constructors), a plugin a
// pipeline lists from outside the folders trusted for it (see LoadOptions).
void check_plugin_place(const PipelineImpl& p, const std::string& file, const YAML::Mark& mark,
                        const LoadOptions& opts) {
  std::error_code ec;
  const fs::path real = fs::canonical(file, ec);
  if (ec) return;  // open_plugin says what is wrong with it
  std::vector<std::string> dirs{p.base_dir, builtin_plugin_dir()};
  if (const char* env = std::getenv("FEATPIPE_PLUGIN_PATH"))
    for (const auto& d : util::split(env, ':')) dirs.push_back(d);
  dirs.insert(dirs.end(), opts.allowed_plugin_dirs.begin(), opts.allowed_plugin_dirs.end());
  for (const auto& d : dirs)
    if (under(real, d)) return;
  fail(p.file, mark,
       "plugin " + file + " is outside the pipeline's folder, the built-in plugins and FEATPIPE_PLUGIN_PATH; not "
       "loaded (loading runs its code): allow its folder with --allow-plugin " + real.parent_path().string() +
       " or give it with --plugin");
}

void load_plugins(PipelineImpl& p, const YAML::Node& root, const LoadOptions& opts) {
  std::vector<std::pair<std::string, YAML::Mark>> files;
  if (opts.builtin_plugins)
    for (const auto& f : default_plugins()) {
      if (f.indexed) p.stages.add_indexed(f.path, f.stages);  // loaded when a step uses it
      else files.emplace_back(f.path, YAML::Mark::null_mark());
    }
  if (YAML::Node list = root["plugins"]) {
    if (!list.IsSequence() && !list.IsNull()) fail(p.file, list.Mark(), "'plugins' must be a list of plugin files");
    for (const auto& item : list) {
      fs::path f = scalar(item, p.file, "a plugin file");
      if (f.is_relative()) f = fs::path(p.base_dir) / f;
      check_plugin_place(p, f.lexically_normal().string(), item.Mark(), opts);
      files.emplace_back(f.lexically_normal().string(), item.Mark());
    }
  }
  for (const auto& f : opts.plugin_files) files.emplace_back(f, YAML::Mark::null_mark());
  for (const auto& [f, mark] : files) {
    try {
      p.stages.add(open_plugin(f));
    } catch (const Error& e) {
      if (mark.is_null()) throw;
      fail(p.file, mark, e.what());
    }
  }
}

// Creates a throw-away instance to agree shapes (sessions make their own).
void configure_step(PipelineImpl& p, StepDef& s, const sdk::Spec& in, const StepDef* prev) {
  StageHandle h(s, p.file);
  fp_spec out{};
  fp_stream_info info{};
  info.struct_size = sizeof info;
  fp_status st = h.get()->configure(h.get(), &in.raw(), &out, &info);
  if (st != FP_OK) {
    const char* param = nullptr;
    std::string msg = h.get()->error(h.get(), &param);
    std::string at = s.where_param(p.file, param);
    if (!param && prev)
      msg += " (input from step '" + prev->use + "': " + in.axes_text() + ")";
    throw Error(at + ": " + s.context + ": " + msg);
  }
  s.in = in;
  s.out = out;
  s.stream = info;
  StepInfo si;
  si.use = s.use;
  si.id = s.id;
  si.where = where(p.file, s.mark);
  si.plugin_file = s.stage->plugin->file;
  si.plugin_version = s.stage->plugin->plugin->version;
  si.params_json = s.params.to_json().dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  si.output = to_public(s.out);
  si.stream = to_public(info);
  s.stream.whole_input_reason = nullptr;  // the stage's text dies with `h`: copied above
  if (h.get()->describe) si.description = h.get()->describe(h.get());
  if (s.stage->desc->flags & FP_STAGE_SOURCE) {
    const auto* chunks = static_cast<const fp_source_chunks*>(h.get()->get_extension(h.get(), FP_EXT_SOURCE_CHUNKS));
    s.chunked_files = chunks && FP_HAS_FIELD(chunks, fp_source_chunks, open_file_chunked) && chunks->open_file_chunked;
  }
  p.infos.push_back(si);
}

}  // namespace

double stream_latency(const std::vector<StepDef>& steps, size_t from) {
  double latency = 0, scale = 1;  // input units per unit at the current step's input
  for (size_t k = from; k < steps.size(); ++k) {
    const fp_stream_info& i = steps[k].stream;
    // A step on a stream axis that cannot say its hop (e.g. a rate known only
    // when data flows): the latency is unknown until then.
    if (steps[k].in.stream_axis() >= 0 && !(i.hop > 0)) return std::numeric_limits<double>::quiet_NaN();
    if (i.hop > 0) {
      latency += static_cast<double>(i.lookahead) * scale;
      scale *= i.hop;
    }
  }
  return latency;
}

std::string StepDef::where_param(const std::string& file, const char* param) const {
  if (param)
    if (const ParamValue* pv = params.find(param); pv && !pv->defaulted) return where(file, pv->mark);
  return where(file, mark);
}

// A source whose output's sample rate is known only per file (audio.decode
// without sample_rate): each file's features then depend on its own rate
// (frame rate, frequency ranges) while their shapes look alike.
static std::vector<std::string> load_warnings(const PipelineImpl& p) {
  std::vector<std::string> out;
  if (!p.source || p.infos.empty()) return out;
  const StepDef& s = p.steps.front();
  const auto& attrs = p.infos.front().output.attrs;
  auto rate = attrs.find("sample_rate");
  if (rate == attrs.end() || !std::isnan(rate->second)) return out;
  bool settable = false;
  for (uint32_t k = 0; k < s.stage->desc->param_count; ++k) settable |= s.stage->desc->params[k].name == std::string_view("sample_rate");
  out.push_back(where(p.file, s.mark) + ": " + s.context + " keeps each file's sample rate, so the features depend on it "
                "(frame rate, frequency ranges) and differ between files of different rates" +
                (settable ? "; set its sample_rate (e.g. with: {sample_rate: 16000}) to resample every file to one rate"
                          : ""));
  return out;
}

void load_pipeline(PipelineImpl& p, const std::string& text, const LoadOptions& opts) {
  YAML::Node root = parse_yaml(text, p.file);
  check_duplicate_keys(root, p.file);
  if (!root.IsMap()) fail(p.file, root.Mark(), "a pipeline file is a map with keys featpipe, name, stages");

  static const std::set<std::string> top_keys = {"featpipe", "name", "plugins", "stages"};
  for (const auto& kv : root) {
    const std::string key = kv.first.Scalar();
    if (!top_keys.count(key)) {
      auto near = util::closest(key, {top_keys.begin(), top_keys.end()}, 1);
      fail(p.file, kv.first.Mark(), "unknown key '" + key + "'" + (near.empty() ? "" : " (did you mean '" + near[0] + "'?)") +
                                        "; a pipeline has: featpipe, name, plugins, stages");
    }
  }
  YAML::Node version = root["featpipe"];
  if (!version) fail(p.file, root.Mark(), "missing 'featpipe: 1' (the pipeline format version)");
  if (!version.IsScalar() || version.Scalar() != "1")
    fail(p.file, version.Mark(), "unsupported pipeline format version '" + (version.IsScalar() ? version.Scalar() : std::string("?")) +
                                     "': this featpipe reads version 1");
  YAML::Node name = root["name"];
  if (!name) fail(p.file, root.Mark(), "missing 'name'");
  p.name = scalar(name, p.file, "'name'");

  load_plugins(p, root, opts);

  YAML::Node stages = root["stages"];
  if (!stages) fail(p.file, root.Mark(), "missing 'stages' (the list of steps)");
  if (!stages.IsSequence() || stages.size() == 0) fail(p.file, stages.Mark(), "'stages' must be a non-empty list of steps");

  static const std::set<std::string> step_keys = {"use", "with", "id"};
  size_t index = 0;
  for (const auto& node : stages) {
    ++index;
    if (!node.IsMap()) fail(p.file, node.Mark(), "step " + std::to_string(index) + " must be a map with 'use' (and optional 'with', 'id')");
    for (const auto& kv : node) {
      const std::string key = kv.first.Scalar();
      if (!step_keys.count(key)) {
        auto near = util::closest(key, {step_keys.begin(), step_keys.end()}, 1);
        fail(p.file, kv.first.Mark(), "step " + std::to_string(index) + ": unknown key '" + key + "'" +
                                          (near.empty() ? "" : " (did you mean '" + near[0] + "'?)") + "; a step has: use, with, id");
      }
    }
    YAML::Node use = node["use"];
    if (!use) fail(p.file, node.Mark(), "step " + std::to_string(index) + ": missing 'use' (the stage name)");
    StepDef s;
    s.use = scalar(use, p.file, "'use'");
    s.mark = use.Mark();
    if (YAML::Node id = node["id"]) s.id = scalar(id, p.file, "'id'");
    s.context = "step " + std::to_string(index) + " '" + s.use + "'" + (s.id.empty() ? "" : " (" + s.id + ")");
    try {
      s.stage = p.stages.find(s.use);
    } catch (const Error& e) {
      fail(p.file, use.Mark(), s.context + ": " + e.what());
    }
    if (!s.stage) {
      auto near = util::closest(s.use, p.stages.names());
      std::string hint = near.empty() ? "; `featpipe stages` lists the stages" : "; did you mean " + util::join(near, " or ") + "?";
      fail(p.file, use.Mark(), "unknown stage '" + s.use + "'" + hint);
    }
    s.params = resolve_params(*s.stage->desc, node["with"], s.mark, p.file, p.base_dir, s.context);
    p.steps.push_back(std::move(s));
  }

  // Agree shapes along the chain.
  for (size_t k = 0; k < p.steps.size(); ++k) {
    StepDef& s = p.steps[k];
    const bool is_source = (s.stage->desc->flags & FP_STAGE_SOURCE) != 0;
    sdk::Spec in;
    if (k == 0) {
      p.source = is_source;
      if (!is_source) {
        if (!opts.input)
          fail(p.file, s.mark, s.context + ": takes a tensor, so it cannot start a pipeline that reads files; "
                                           "start with a stage that reads files (audio.decode, image.decode, tensor.load)");
        in = to_abi(*opts.input, "LoadOptions::input");
      }
    } else {
      if (is_source) fail(p.file, s.mark, s.context + ": reads files, so it can only be the first step");
      in = p.steps[k - 1].out;
    }
    configure_step(p, s, in, k ? &p.steps[k - 1] : nullptr);
  }

  // Streaming: the first whole-input step, and the look-ahead in input units.
  p.latency = stream_latency(p.steps, 0);
  for (size_t k = 0; k < p.steps.size(); ++k)
    if (p.steps[k].stream.whole_input && !p.batch_only) p.batch_only = k;
  p.chunked_files = p.source && p.steps.front().chunked_files && !p.batch_only;
  p.warnings = load_warnings(p);
}

}  // namespace featpipe
