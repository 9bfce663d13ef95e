#include "params.hpp"

#include <featpipe/featpipe.hpp>

#include "util.hpp"

#include <charconv>
#include <cmath>
#include <filesystem>
#include <sstream>

namespace featpipe {

std::string where(const std::string& file, const YAML::Mark& mark) {
  if (mark.is_null()) return file;
  return file + ":" + std::to_string(mark.line + 1) + ":" + std::to_string(mark.column + 1);
}

static std::string num_text(double v) {
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  if (v == std::floor(v) && std::fabs(v) < 1e15) return std::to_string(static_cast<long long>(v));
  std::ostringstream os;
  os.precision(10);
  os << v;
  return os.str();
}

std::string kind_text(fp_type t) {
  switch (t) {
    case FP_T_BOOL: return "bool";
    case FP_T_INT: return "int";
    case FP_T_FLOAT: return "float";
    case FP_T_STRING: return "string";
    case FP_T_CHOICE: return "choice";
    case FP_T_PATH: return "path";
    case FP_T_AXIS: return "axis";
    case FP_T_AXES: return "axes";
    case FP_T_INTS: return "ints";
    case FP_T_FLOATS: return "floats";
  }
  return "unknown";
}

std::string type_text(const fp_param_desc& p) {
  std::string t;
  switch (p.type) {
    case FP_T_BOOL: t = "bool"; break;
    case FP_T_INT: t = "int"; break;
    case FP_T_FLOAT: t = "float"; break;
    case FP_T_STRING: t = "string"; break;
    case FP_T_CHOICE: t = p.choices ? p.choices : "choice"; break;
    case FP_T_PATH: t = "path"; break;
    case FP_T_AXIS: t = "axis (name | int | all)"; break;
    case FP_T_AXES: t = "list of axes"; break;
    case FP_T_INTS: t = "int | list of int"; break;
    case FP_T_FLOATS: t = "float | list of float"; break;
  }
  if (p.min <= p.max) {
    if (std::isinf(p.max)) t += " ≥ " + num_text(p.min);
    else t += " in [" + num_text(p.min) + ", " + num_text(p.max) + "]";
  }
  if (p.max_count > 0 || p.min_count > 0)
    t += p.min_count == p.max_count ? " (" + std::to_string(p.min_count) + " items)"
                                    : " (" + std::to_string(p.min_count) + ".." +
                                          (p.max_count ? std::to_string(p.max_count) : std::string("")) + " items)";
  if (p.nullable) t += " | null";
  return t;
}

namespace {

struct Ctx {
  const std::string& file;
  const std::string& context;  // "step 2 'audio.stft'"
  [[noreturn]] void fail(const YAML::Mark& m, const std::string& msg) const {
    throw Error(where(file, m) + ": " + context + ": " + msg);
  }
};

bool parse_int(const std::string& s, int64_t& out) {
  const char* b = s.data();
  const char* e = b + s.size();
  if (b != e && *b == '+') ++b;
  auto r = std::from_chars(b, e, out);
  return r.ec == std::errc() && r.ptr == e;
}

bool parse_float(const std::string& s, double& out) {
  if (s.empty()) return false;
  char* end = nullptr;
  out = std::strtod(s.c_str(), &end);
  return end && *end == '\0' && std::isfinite(out);
}

void check_range(const Ctx& c, const fp_param_desc& d, const YAML::Mark& m, double v) {
  if (d.min > d.max) return;
  if (v < d.min || v > d.max) {
    const std::string want =
        std::isinf(d.max) ? "≥ " + num_text(d.min) : "in [" + num_text(d.min) + ", " + num_text(d.max) + "]";
    c.fail(m, std::string("'") + d.name + "' must be " + want + ", got " + num_text(v));
  }
}

// yaml-cpp leaves scalars untyped: a quoted one ("80") carries the
// non-specific tag "!", a plain one "?" (nodes built in code: none), an
// explicit !!str the string tag. Numbers and booleans must be plain, so that
// `n_mels: "80"` is not silently a number.
bool quoted(const YAML::Node& n) { return n.Tag() == "!" || n.Tag() == "tag:yaml.org,2002:str"; }

[[noreturn]] void fail_quoted(const Ctx& c, const YAML::Node& n, const std::string& name, const std::string& want,
                              bool would_parse) {
  c.fail(n.Mark(), "'" + name + "' must be " + want + ", got the string \"" + n.Scalar() + "\"" +
                       (would_parse ? " (write " + n.Scalar() + " without quotes)" : ""));
}

double scalar_number(const Ctx& c, const fp_param_desc& d, const YAML::Node& n, bool integer) {
  if (!n.IsScalar()) c.fail(n.Mark(), std::string("'") + d.name + "' must be " + (integer ? "an integer" : "a number"));
  const std::string s = n.Scalar();
  if (quoted(n)) {
    int64_t i;
    double f;
    fail_quoted(c, n, d.name, integer ? "an integer" : "a number", integer ? parse_int(s, i) : parse_float(s, f));
  }
  if (integer) {
    int64_t v;
    if (!parse_int(s, v)) c.fail(n.Mark(), std::string("'") + d.name + "' must be an integer, got '" + s + "'");
    check_range(c, d, n.Mark(), static_cast<double>(v));
    return static_cast<double>(v);
  }
  double v;
  if (!parse_float(s, v)) c.fail(n.Mark(), std::string("'") + d.name + "' must be a number, got '" + s + "'");
  check_range(c, d, n.Mark(), v);
  return v;
}

void fill(const Ctx& c, ParamValue& pv, const YAML::Node& n, const std::string& base_dir) {
  const fp_param_desc& d = *pv.desc;
  const std::string name = d.name;
  if (n.IsNull()) {
    if (!d.nullable) c.fail(n.Mark(), "'" + name + "' must not be null (type: " + type_text(d) + ")");
    pv.is_null = true;
    return;
  }
  switch (d.type) {
    case FP_T_BOOL: {
      bool b = false;
      if (n.IsScalar() && quoted(n)) fail_quoted(c, n, name, "true or false", YAML::convert<bool>::decode(n, b));
      if (!n.IsScalar() || !YAML::convert<bool>::decode(n, b))
        c.fail(n.Mark(), "'" + name + "' must be true or false, got '" + (n.IsScalar() ? n.Scalar() : "a " + std::string(n.IsMap() ? "map" : "list")) + "'");
      pv.i = b;
      return;
    }
    case FP_T_INT: pv.i = static_cast<int64_t>(scalar_number(c, d, n, true)); return;
    case FP_T_FLOAT: pv.f = scalar_number(c, d, n, false); return;
    case FP_T_STRING:
    case FP_T_CHOICE:
    case FP_T_PATH:
    case FP_T_AXIS: {
      if (!n.IsScalar()) c.fail(n.Mark(), "'" + name + "' must be a single value, not a " + (n.IsMap() ? "map" : "list"));
      pv.s = n.Scalar();
      if (d.type == FP_T_CHOICE) {
        const auto options = util::split(d.choices ? d.choices : "", '|');
        if (std::find(options.begin(), options.end(), pv.s) == options.end()) {
          auto near = util::closest(pv.s, options, 1);
          c.fail(n.Mark(), "'" + name + "' must be one of " + util::join(options, "|") + ", got '" + pv.s + "'" +
                               (near.empty() ? "" : " (did you mean '" + near[0] + "'?)"));
        }
      }
      if (d.type == FP_T_PATH && !pv.s.empty()) {
        std::filesystem::path p(pv.s);
        if (p.is_relative()) pv.s = (std::filesystem::path(base_dir) / p).lexically_normal().string();
      }
      return;
    }
    case FP_T_INTS:
    case FP_T_FLOATS:
    case FP_T_AXES: {
      std::vector<YAML::Node> items;
      if (n.IsSequence()) for (const auto& it : n) items.push_back(it);
      else if (n.IsScalar()) items.push_back(n);
      else c.fail(n.Mark(), "'" + name + "' must be a list or a single value, not a map");
      const int count = static_cast<int>(items.size());
      if (count < d.min_count || (d.max_count > 0 && count > d.max_count)) {
        std::string want = d.min_count == d.max_count ? std::to_string(d.min_count)
                                                      : std::to_string(d.min_count) + " to " + (d.max_count ? std::to_string(d.max_count) : std::string("any number of"));
        c.fail(n.Mark(), "'" + name + "' takes " + want + " items, got " + std::to_string(count));
      }
      for (const auto& it : items) {
        if (d.type == FP_T_AXES) {
          if (!it.IsScalar()) c.fail(it.Mark(), "'" + name + "' items must be axis names or integers");
          pv.strings.push_back(it.Scalar());
        } else {
          pv.numbers.push_back(scalar_number(c, d, it, d.type == FP_T_INTS));
        }
      }
      return;
    }
  }
}

}  // namespace

ResolvedParams resolve_params(const fp_stage_desc& desc, const YAML::Node& with, const YAML::Mark& step_mark,
                              const std::string& file, const std::string& base_dir, const std::string& context) {
  Ctx c{file, context};
  std::vector<ParamValue> values;
  if (with && !with.IsNull() && !with.IsMap()) c.fail(with.Mark(), "'with' must be a map of parameters");

  std::vector<std::string> known;
  for (uint32_t k = 0; k < desc.param_count; ++k) known.push_back(desc.params[k].name);
  if (with && with.IsMap()) {
    for (const auto& kv : with) {
      const std::string key = kv.first.Scalar();
      if (std::find(known.begin(), known.end(), key) == known.end()) {
        auto near = util::closest(key, known, 1);
        c.fail(kv.first.Mark(), "unknown parameter '" + key + "'" +
                                    (near.empty() ? "" : " (did you mean '" + near[0] + "'?)") + "; '" +
                                    desc.name + "' takes: " + (known.empty() ? "no parameters" : util::join(known)));
      }
    }
  }

  for (uint32_t k = 0; k < desc.param_count; ++k) {
    ParamValue pv;
    pv.desc = &desc.params[k];
    YAML::Node value = (with && with.IsMap()) ? with[pv.desc->name] : YAML::Node(YAML::NodeType::Undefined);
    if (value.IsDefined()) {
      pv.mark = value.Mark();
      fill(c, pv, value, base_dir);
    } else {
      if (!pv.desc->default_value)
        c.fail(step_mark, std::string("missing required parameter '") + pv.desc->name + "' (" + type_text(*pv.desc) + ")");
      pv.defaulted = true;
      pv.mark = step_mark;
      YAML::Node def = YAML::Load(pv.desc->default_value);
      Ctx dc{file, context + " (default of '" + pv.desc->name + "' in its plugin's schema)"};
      fill(dc, pv, def, base_dir);
    }
    values.push_back(std::move(pv));
  }
  return ResolvedParams(std::move(values));
}

ResolvedParams::ResolvedParams(std::vector<ParamValue> values) : values_(std::move(values)) {
  ptrs_.reserve(values_.size());
  for (const auto& pv : values_) {
    fp_value v{};
    v.struct_size = sizeof v;
    v.name = pv.desc->name;
    v.type = pv.desc->type;
    v.is_null = pv.is_null;
    v.i = pv.i;
    v.f = pv.f;
    v.s = pv.s.c_str();
    v.count = static_cast<uint32_t>(pv.desc->type == FP_T_AXES ? pv.strings.size() : pv.numbers.size());
    v.numbers = pv.numbers.data();
    auto& p = ptrs_.emplace_back();
    for (const auto& s : pv.strings) p.push_back(s.c_str());
    v.strings = p.data();
    raw_.push_back(v);
  }
}

const ParamValue* ResolvedParams::find(const std::string& name) const {
  for (const auto& pv : values_)
    if (name == pv.desc->name) return &pv;
  return nullptr;
}

nlohmann::json ResolvedParams::to_json() const {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& pv : values_) {
    const char* name = pv.desc->name;
    if (pv.is_null) { j[name] = nullptr; continue; }
    switch (pv.desc->type) {
      case FP_T_BOOL: j[name] = pv.i != 0; break;
      case FP_T_INT: j[name] = pv.i; break;
      case FP_T_FLOAT: j[name] = pv.f; break;
      case FP_T_INTS: {
        auto a = nlohmann::json::array();
        for (double v : pv.numbers) a.push_back(static_cast<int64_t>(v));
        j[name] = a;
        break;
      }
      case FP_T_FLOATS: j[name] = pv.numbers; break;
      case FP_T_AXES: j[name] = pv.strings; break;
      default: j[name] = pv.s;
    }
  }
  return j;
}

}  // namespace featpipe
