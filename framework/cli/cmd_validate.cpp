// featpipe validate PIPELINE: load plugins, check every step and the chain
// of shapes; print the chain and its streaming latency. Processes nothing.
#include "commands.hpp"

#include <cmath>
#include <cstdio>
#include <iostream>

namespace featpipe::cli {

Action add_validate(CLI::App& app) {
  auto path = std::make_shared<std::string>();
  auto plugins = std::make_shared<std::vector<std::string>>();
  auto allowed = std::make_shared<std::vector<std::string>>();
  CLI::App* c = app.add_subcommand("validate", "check a pipeline file and print its chain of shapes");
  c->add_option("pipeline", *path, "pipeline file (.yaml)")->required();
  c->add_option("--plugin", *plugins, "extra plugin file (repeatable)");
  c->add_option("--allow-plugin", *allowed, "folder a pipeline's plugins: may load from (repeatable; loading runs their code)");
  return [path, plugins, allowed] {
    LoadOptions lo;
    lo.plugin_files = *plugins;
    lo.allowed_plugin_dirs = *allowed;
    auto pipe = Pipeline::load(*path, lo);
    std::cout << pipe->file() << ": '" << pipe->name() << "', " << pipe->steps().size() << " steps\n";
    size_t k = 0;
    size_t width = 0;
    for (const auto& s : pipe->steps()) width = std::max(width, s.use.size() + (s.id.empty() ? 0 : s.id.size() + 3));
    for (const auto& s : pipe->steps()) {
      std::string label = s.use + (s.id.empty() ? "" : " (" + s.id + ")");
      std::printf("  %zu  %-*s -> %s\n", ++k, static_cast<int>(width), label.c_str(), s.output.axes_text().c_str());
      if (!s.description.empty()) {
        std::string d = s.description;
        size_t pos = 0;
        while (pos < d.size()) {
          size_t nl = d.find('\n', pos);
          if (nl == std::string::npos) nl = d.size();
          std::printf("       %s\n", d.substr(pos, nl - pos).c_str());
          pos = nl + 1;
        }
      }
    }
    bool time_axis = false;
    for (const auto& s : pipe->steps()) time_axis |= s.stream.hop > 0;
    if (!time_axis) {
      std::cout << "streaming: no time axis: each input (an image, a camera frame) is processed whole\n";
    } else if (auto b = pipe->batch_only_step()) {
      std::cout << "streaming: no — step " << *b + 1 << " '" << pipe->steps()[*b].use
                << "' needs the whole input (batch only)\n";
    } else {
      const double lat = pipe->latency_samples();
      const double rate = pipe->steps().front().output.attr("sample_rate");
      if (std::isnan(lat)) {
        std::cout << "streaming: yes, latency known once the sample rate is (set audio.decode's sample_rate)\n";
      } else {
        std::cout << "streaming: yes, latency " << lat << " samples";
        if (std::isfinite(rate) && rate > 0) std::printf(" (%.1f ms at %g Hz)", 1000.0 * lat / rate, rate);
        std::cout << "\n";
      }
    }
    for (const auto& w : pipe->warnings()) std::cerr << "warning: " << w << "\n";
    std::cout << "ok\n";
    return 0;
  };
}

}  // namespace featpipe::cli
