#include "validate_report.hpp"

#include <featpipe/runner.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <regex>

namespace featpipe::cli {

namespace {

using json = nlohmann::ordered_json;  // keys in the order written: name first

bool plain_scalar(const std::string& s) {
  if (s.empty()) return false;
  for (char c : s)
    if (std::string_view(":{}[],#&*!|>'\"%@`").find(c) != std::string_view::npos) return false;
  return s.front() != ' ' && s.back() != ' ' && s != "null" && s != "true" && s != "false";
}

std::string flow(const json& v) {
  if (v.is_string()) return plain_scalar(v.get<std::string>()) ? v.get<std::string>() : v.dump();
  if (v.is_array()) {
    std::string out = "[";
    for (size_t k = 0; k < v.size(); ++k) out += (k ? ", " : "") + flow(v[k]);
    return out + "]";
  }
  if (v.is_object()) {
    std::string out = "{";
    for (auto it = v.begin(); it != v.end(); ++it) out += (out.size() > 1 ? ", " : "") + it.key() + ": " + flow(it.value());
    return out + "}";
  }
  return v.dump();
}

json number_or_null(double v) { return std::isfinite(v) ? json(v) : json(nullptr); }

bool has_time_axis(const Pipeline& pipe) {
  for (const auto& s : pipe.steps())
    if (s.stream.hop > 0) return true;
  return false;
}

double first_rate(const Pipeline& pipe) { return pipe.steps().front().output.attr("sample_rate"); }

}  // namespace

std::string params_flow(const std::string& params_json) {
  auto j = json::parse(params_json, nullptr, false);
  return j.is_discarded() ? params_json : flow(j);
}

double frame_rate(const Pipeline& pipe) {
  if (!has_time_axis(pipe) || pipe.steps().back().output.stream_axis < 0) return NAN;
  double rate = first_rate(pipe);
  const auto& steps = pipe.steps();
  for (size_t k = 1; k < steps.size(); ++k)
    if (steps[k].stream.hop > 0) rate /= steps[k].stream.hop;
  return rate > 0 && std::isfinite(rate) ? rate : NAN;
}

std::string streaming_line(const Pipeline& pipe) {
  if (!has_time_axis(pipe)) return "streaming: no time axis: each input (an image, a camera frame) is processed whole";
  if (auto b = pipe.batch_only_step()) {
    const StepInfo& s = pipe.steps()[*b];
    return "streaming: no — step " + std::to_string(*b + 1) + " '" + s.use + "' needs the whole input (batch only)" +
           (s.stream.whole_input_reason.empty() ? "" : ": " + s.stream.whole_input_reason);
  }
  const double lat = pipe.latency_samples();
  const double rate = first_rate(pipe);
  if (std::isnan(lat))
    return "streaming: yes, latency known once the sample rate is (set audio.decode's sample_rate); frame rate: "
           "depends on each input's sample rate";
  char buf[160];
  std::snprintf(buf, sizeof buf, "streaming: yes, latency %g samples", lat);
  std::string out = buf;
  if (std::isfinite(rate) && rate > 0) {
    std::snprintf(buf, sizeof buf, " (%.1f ms at %g Hz)", 1000.0 * lat / rate, rate);
    out += buf;
  }
  if (const double fr = frame_rate(pipe); std::isfinite(fr)) {
    std::snprintf(buf, sizeof buf, ", %g frames per second", fr);
    out += buf;
  } else {
    out += ", frame rate: depends on each input's sample rate";
  }
  return out;
}

std::string files_line(const Pipeline& pipe) {
  if (!pipe.has_source()) return "";
  const std::string why = why_files_not_streamed(pipe);
  // A tar member's header holds its size, and the run's process writes the
  // shard: that sink takes whole tensors (sink.hpp's write()).
  if (why.empty())
    return "files: read in chunks, features written as they come (memory does not grow with a file's length; "
           "--output-format tar holds each input's features)";
  if (pipe.streams_files()) return "files: read in chunks, features assembled in memory (" + why + ")";
  return "files: decoded whole (" + why + "): memory grows with a file's length";
}

namespace {
json files_json(const Pipeline& pipe) {
  if (!pipe.has_source()) return nullptr;
  const std::string why = why_files_not_streamed(pipe);
  return {{"chunked", pipe.streams_files()},
          {"written_as_they_come", why.empty()},
          {"why", why.empty() ? json(nullptr) : json(why)}};
}
}  // namespace

std::string validate_json(const Pipeline& pipe) {
  json steps = json::array();
  for (const auto& s : pipe.steps()) {
    json shape = json::array(), attrs = json::object();
    for (int64_t d : s.output.shape) shape.push_back(d >= 0 ? json(d) : json(nullptr));
    for (const auto& [k, v] : s.output.attrs) attrs[k] = number_or_null(v);
    auto params = json::parse(s.params_json, nullptr, false);
    steps.push_back({{"use", s.use},
                     {"id", s.id.empty() ? json(nullptr) : json(s.id)},
                     {"where", s.where},
                     {"plugin", {{"file", s.plugin_file}, {"version", s.plugin_version}}},
                     {"params", params.is_discarded() ? json(s.params_json) : params},
                     {"output",
                      {{"axes", s.output.axes},
                       {"shape", shape},
                       {"stream_axis", s.output.stream_axis >= 0 ? json(s.output.stream_axis) : nullptr},
                       {"attrs", attrs}}},
                     {"stream",
                      {{"whole_input", s.stream.whole_input},
                       {"whole_input_reason", s.stream.whole_input_reason.empty() ? json(nullptr) : json(s.stream.whole_input_reason)},
                       {"hop", s.stream.hop},
                       {"lookahead", s.stream.lookahead},
                       {"history", s.stream.history}}},
                     {"description", s.description}});
  }
  const bool time_axis = has_time_axis(pipe);
  const auto batch = pipe.batch_only_step();
  json why = nullptr;
  if (!time_axis) {
    why = "no time axis: each input is processed whole";
  } else if (batch) {
    const StepInfo& s = pipe.steps()[*batch];
    why = "step " + std::to_string(*batch + 1) + " '" + s.use + "' needs the whole input" +
          (s.stream.whole_input_reason.empty() ? "" : ": " + s.stream.whole_input_reason);
  }
  const bool streamable = why.is_null();
  const double rate = first_rate(pipe), lat = streamable ? pipe.latency_samples() : NAN;
  json j = {{"ok", true},
                      {"file", pipe.file()},
                      {"name", pipe.name()},
                      {"steps", steps},
                      {"extensions", pipe.extensions()},
                      {"streamable", streamable},
                      {"not_streamable_because", why},
                      {"sample_rate", number_or_null(rate)},
                      {"frame_rate", number_or_null(frame_rate(pipe))},
                      {"latency_samples", number_or_null(lat)},
                      {"latency_ms", number_or_null(std::isfinite(rate) && rate > 0 ? 1000.0 * lat / rate : NAN)},
                      {"files", files_json(pipe)},
                      {"warnings", pipe.warnings()}};
  return j.dump(2) + "\n";
}

std::string validate_error_json(const std::string& message) {
  json err = {{"file", nullptr}, {"line", nullptr}, {"col", nullptr}, {"message", message}};
  std::smatch m;
  static const std::regex at(R"(^([^:\n]+):(\d+):(\d+): ([\s\S]*)$)");
  if (std::regex_match(message, m, at)) {
    err = {{"file", m[1].str()}, {"line", std::stoi(m[2].str())}, {"col", std::stoi(m[3].str())}, {"message", m[4].str()}};
  }
  return json{{"ok", false}, {"error", err}}.dump(2) + "\n";
}

std::string validate_text(const Pipeline& pipe) {
  const size_t n = pipe.steps().size();
  std::string out = pipe.file() + ": '" + pipe.name() + "', " + std::to_string(n) + (n == 1 ? " step\n" : " steps\n");
  size_t width = 0;
  for (const auto& s : pipe.steps()) width = std::max(width, s.use.size() + (s.id.empty() ? 0 : s.id.size() + 3));
  size_t k = 0;
  for (const auto& s : pipe.steps()) {
    std::string label = s.use + (s.id.empty() ? "" : " (" + s.id + ")");
    label.resize(std::max(label.size(), width), ' ');
    out += "  " + std::to_string(++k) + "  " + label + " -> " + s.output.axes_text() + "\n";
    std::string d = params_flow(s.params_json);
    if (!s.description.empty()) d += "\n" + s.description;
    size_t pos = 0;
    while (pos < d.size()) {
      size_t nl = d.find('\n', pos);
      if (nl == std::string::npos) nl = d.size();
      out += "       " + d.substr(pos, nl - pos) + "\n";
      pos = nl + 1;
    }
  }
  out += streaming_line(pipe) + "\n";
  if (const std::string f = files_line(pipe); !f.empty()) out += f + "\n";
  return out;
}

}  // namespace featpipe::cli
