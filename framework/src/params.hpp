// Turning a step's `with:` map into checked fp_values, by the stage's schema.
#pragma once

#include <featpipe/plugin.h>

#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

#include <string>
#include <vector>

namespace featpipe {

// Where a node stands: "file.yaml:12:7".
std::string where(const std::string& file, const YAML::Mark& mark);

// One resolved parameter with storage for what fp_value points at.
struct ParamValue {
  const fp_param_desc* desc = nullptr;
  bool is_null = false;
  int64_t i = 0;
  double f = 0;
  std::string s;
  std::vector<double> numbers;
  std::vector<std::string> strings;
  YAML::Mark mark;        // of the value in the file (or of `use` if defaulted)
  bool defaulted = false;
};

// Immutable once built: the fp_value array is laid out here, at load time,
// because every session of a pipeline (on any thread) hands the same array
// to its stages' create().
class ResolvedParams {
 public:
  ResolvedParams() = default;
  explicit ResolvedParams(std::vector<ParamValue> values);  // schema order
  ResolvedParams(const ResolvedParams& o) : ResolvedParams(o.values_) {}  // re-points raw() at the copy
  ResolvedParams& operator=(const ResolvedParams& o) { return *this = ResolvedParams(o.values_); }
  // Moves keep the heap buffers raw() points into.
  ResolvedParams(ResolvedParams&&) noexcept = default;
  ResolvedParams& operator=(ResolvedParams&&) noexcept = default;

  const std::vector<ParamValue>& values() const { return values_; }
  // fp_value array pointing into values() (valid while this lives).
  const std::vector<fp_value>& raw() const { return raw_; }
  nlohmann::json to_json() const;
  const ParamValue* find(const std::string& name) const;

 private:
  std::vector<ParamValue> values_;
  std::vector<fp_value> raw_;
  std::vector<std::vector<const char*>> ptrs_;
};

// Checks `with` (may be undefined/null) against the schema; unknown keys,
// wrong types, out of range, missing required parameters are Errors with
// file:line:col of the offending node. Paths resolve against `base_dir`.
ResolvedParams resolve_params(const fp_stage_desc& desc, const YAML::Node& with, const YAML::Mark& step_mark,
                              const std::string& file, const std::string& base_dir, const std::string& context);

// "int ≥ 1", "float in [0, 1]", "hann|hamming", "axis", ... for `stages`.
std::string type_text(const fp_param_desc& p);
// The bare type name: "int", "choice", "axes" ...
std::string kind_text(fp_type t);

}  // namespace featpipe
