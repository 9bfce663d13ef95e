#include "stage_reference.hpp"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <map>
#include <sstream>

namespace featpipe::cli {

namespace {

using json = nlohmann::ordered_json;  // keys in the order written: name first

std::string number_text(double v) {
  std::ostringstream os;
  os.precision(15);
  os << v;
  return os.str();
}

std::vector<std::string> words(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream is(s);
  for (std::string w; is >> w;) out.push_back(w);
  return out;
}

json param_json(const ParamDoc& p) {
  json j = {{"name", p.name},
                      {"type", p.kind},
                      {"type_text", p.type},
                      {"default", p.required ? json(nullptr) : json(p.default_value)},
                      {"required", p.required},
                      {"nullable", p.nullable},
                      {"unit", p.unit},
                      {"doc", p.doc}};
  if (!p.choices.empty()) j["choices"] = p.choices;
  if (p.min) j["min"] = *p.min;
  if (p.max) j["max"] = *p.max;
  if (p.min_count || p.max_count) {
    j["min_count"] = p.min_count;
    j["max_count"] = p.max_count ? json(p.max_count) : json(nullptr);
  }
  return j;
}

// A table cell: one line, pipes escaped.
std::string cell(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '|') out += "\\|";
    else if (c == '\n') out += ' ';
    else out += c;
  }
  return out;
}

std::string allowed_text(const ParamDoc& p) {
  std::vector<std::string> parts;
  if (!p.choices.empty()) {
    std::string c;
    for (const auto& v : p.choices) c.append(c.empty() ? "" : ", ").append("`").append(v).append("`");
    parts.push_back("one of " + c);
  }
  if (p.min && p.max) parts.push_back(number_text(*p.min) + " to " + number_text(*p.max));
  else if (p.min) parts.push_back("≥ " + number_text(*p.min));
  else if (p.max) parts.push_back("≤ " + number_text(*p.max));
  if (p.min_count || p.max_count)
    parts.push_back(p.min_count == p.max_count ? std::to_string(p.min_count) + " items"
                                               : std::to_string(p.min_count) + ".." +
                                                     (p.max_count ? std::to_string(p.max_count) : std::string("")) + " items");
  if (p.nullable) parts.push_back("or null");
  std::string out;
  for (const auto& s : parts) out.append(out.empty() ? "" : "; ").append(s);
  return out.empty() ? "any" : out;
}

void stage_markdown(std::ostream& os, const StageDoc& s) {
  os << "### " << s.name << "\n\n" << s.doc << "\n\n";
  os << "Plugin `" << s.plugin_name << "` " << s.plugin_version << " (`"
     << std::filesystem::path(s.plugin_file).filename().string() << "`).";
  if (s.source) {
    os << " Reads files";
    const auto ext = words(s.extensions);
    for (size_t k = 0; k < ext.size(); ++k) os << (k ? ", " : " (") << "." << ext[k] << (k + 1 == ext.size() ? ")" : "");
    os << ": a first step only.";
  }
  os << "\n\n";
  if (s.params.empty()) {
    os << "No parameters.\n\n";
  } else {
    os << "| parameter | type | default | allowed | unit | description |\n|---|---|---|---|---|---|\n";
    for (const auto& p : s.params) {
      os << "| `" << p.name << "` | " << p.kind << " | ";
      if (p.required) os << "required";
      else os << "`" << cell(p.default_value) << "`";
      os << " | " << cell(allowed_text(p)) << " | " << cell(p.unit) << " | " << cell(p.doc) << " |\n";
    }
    os << "\n";
  }
  if (!s.example.empty()) os << "```yaml\n" << s.example << (s.example.back() == '\n' ? "" : "\n") << "```\n\n";
}

}  // namespace

std::string family_of(const std::string& stage) { return stage.substr(0, stage.find('.')); }

std::string stages_json(const std::vector<StageDoc>& stages) {
  json list = json::array();
  for (const auto& s : stages) {
    json params = json::array();
    for (const auto& p : s.params) params.push_back(param_json(p));
    list.push_back({{"name", s.name},
                    {"family", family_of(s.name)},
                    {"plugin", {{"name", s.plugin_name}, {"version", s.plugin_version}, {"file", s.plugin_file}}},
                    {"doc", s.doc},
                    {"example", s.example},
                    {"extensions", words(s.extensions)},
                    {"flags", {{"source", s.source}}},
                    {"params", params}});
  }
  return json{{"featpipe_version", FEATPIPE_VERSION}, {"stages", list}}.dump(2) + "\n";
}

std::string stages_markdown(const std::vector<StageDoc>& stages, const std::string& selection) {
  std::map<std::string, std::vector<const StageDoc*>> families;
  for (const auto& s : stages) families[family_of(s.name)].push_back(&s);
  std::ostringstream os;
  if (!selection.empty()) {
    os << "# Stages: " << selection << "\n\n";
  } else {
    os << "# Stage reference\n\n"
        "Every stage of the built-in plugins, generated from their parameter schemas by\n"
        "`featpipe stages --markdown`: do not edit by hand. After changing a stage, regenerate it with\n"
        "`build/bin/featpipe stages --markdown > docs/stages.md` (the ctest test `stage_reference`\n"
        "fails while this file is stale). `featpipe stages NAME` prints one stage, `--json` all of it for scripts.\n\n"
        "Whether a step can stream is decided when it is configured, from its parameters and its input:\n"
        "`featpipe validate PIPELINE` says it for a whole pipeline, naming the step and parameter that prevent it.\n\n";
  }
  for (const auto& [family, list] : families) {
    os << "- [" << family << "](#" << family << "):";
    for (const auto* s : list) os << " " << s->name;
    os << "\n";
  }
  os << "\n";
  for (const auto& [family, list] : families) {
    os << "## " << family << "\n\n";
    for (const auto* s : list) stage_markdown(os, *s);
  }
  std::string out = os.str();
  while (out.size() > 1 && out[out.size() - 1] == '\n' && out[out.size() - 2] == '\n') out.pop_back();
  return out;
}

}  // namespace featpipe::cli
