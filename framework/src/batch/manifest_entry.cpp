#include "manifest_entry.hpp"

#include "names.hpp"

#include <cmath>

namespace featpipe {

const char* to_string(ManifestEntry::Status s) {
  switch (s) {
    case ManifestEntry::Status::ok: return "ok";
    case ManifestEntry::Status::skipped: return "skipped";
    case ManifestEntry::Status::error: return "error";
    case ManifestEntry::Status::not_taken: return "not_taken";
  }
  return "error";
}

nlohmann::json ManifestEntry::to_json() const {
  nlohmann::json j = {{"input", input}, {"output", output}};
  if (status == Status::ok) {
    j["shape"] = shape;
    j["axes"] = axes;
    // Only when known, so lines without them read as before.
    if (input_bytes >= 0) j["input_bytes"] = input_bytes;
    if (input_mtime_ns >= 0) j["input_mtime_ns"] = input_mtime_ns;
    if (output_bytes >= 0) j["output_bytes"] = output_bytes;
    if (!output_xxh3.empty()) j["output_xxh3"] = output_xxh3;
    if (sample_rate > 0) {
      // An integer when it is one (16000, not 16000.0), as users write rates.
      if (sample_rate == std::floor(sample_rate) && sample_rate < 1e15) j["sample_rate"] = static_cast<int64_t>(sample_rate);
      else j["sample_rate"] = sample_rate;
    }
  }
  if (!utt_id.empty()) j["utt_id"] = utt_id;
  j["status"] = to_string(status);
  j["error"] = error.empty() ? nlohmann::json(nullptr) : nlohmann::json(error);
  j["seconds"] = seconds;
  if (status == Status::not_taken) j["reason"] = reason;
  if (!util::valid_utf8(input)) j["input_b64"] = util::base64(input);
  if (!util::valid_utf8(output)) j["output_b64"] = util::base64(output);
  return j;
}

std::string ManifestEntry::line() const {
  return to_json().dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

std::optional<ManifestEntry> ManifestEntry::from_json(const nlohmann::json& j) {
  if (!j.is_object() || !j.contains("output") || !j["output"].is_string()) return std::nullopt;
  ManifestEntry e;
  const std::string status = j.contains("status") && j["status"].is_string() ? j["status"].get<std::string>() : "";
  if (status == "ok") e.status = Status::ok;
  else if (status == "skipped") e.status = Status::skipped;
  else if (status == "error") e.status = Status::error;
  else if (status == "not_taken") e.status = Status::not_taken;
  else return std::nullopt;
  e.output = j["output"].get<std::string>();
  if (j.contains("input") && j["input"].is_string()) e.input = j["input"].get<std::string>();
  if (j.contains("error") && j["error"].is_string()) e.error = j["error"].get<std::string>();
  if (j.contains("utt_id") && j["utt_id"].is_string()) e.utt_id = j["utt_id"].get<std::string>();
  if (j.contains("reason") && j["reason"].is_string()) e.reason = j["reason"].get<std::string>();
  for (auto [key, field] : {std::pair{"input_b64", &e.input}, std::pair{"output_b64", &e.output}})
    if (j.contains(key) && j[key].is_string())
      if (auto bytes = util::unbase64(j[key].get<std::string>())) *field = *bytes;
  if (j.contains("seconds") && j["seconds"].is_number()) e.seconds = j["seconds"].get<double>();
  for (auto [key, field] : {std::pair{"input_bytes", &e.input_bytes}, {"input_mtime_ns", &e.input_mtime_ns},
                            {"output_bytes", &e.output_bytes}})
    if (j.contains(key) && j[key].is_number_integer()) *field = j[key].get<int64_t>();
  if (j.contains("output_xxh3") && j["output_xxh3"].is_string()) e.output_xxh3 = j["output_xxh3"].get<std::string>();
  if (j.contains("sample_rate") && j["sample_rate"].is_number()) e.sample_rate = j["sample_rate"].get<double>();
  if (j.contains("shape") && j["shape"].is_array())
    for (const auto& d : j["shape"])
      if (d.is_number_integer()) e.shape.push_back(d.get<int64_t>());
  if (j.contains("axes") && j["axes"].is_array())
    for (const auto& a : j["axes"])
      if (a.is_string()) e.axes.push_back(a.get<std::string>());
  return e;
}

std::optional<ManifestEntry> ManifestEntry::parse(const std::string& line) {
  auto j = nlohmann::json::parse(line, nullptr, false);
  if (j.is_discarded()) return std::nullopt;
  return from_json(j);
}

}  // namespace featpipe
