// featpipe validate PIPELINE: load plugins, check every step and the chain
// of shapes; print the chain (resolved parameters, shapes), its streaming
// latency and frame rate, or --json. Processes nothing.
#include "commands.hpp"
#include "options.hpp"
#include "validate_report.hpp"

#include <cstdio>
#include <iostream>

namespace featpipe::cli {

Action add_validate(CLI::App& app) {
  auto path = std::make_shared<std::string>();
  auto plugins = std::make_shared<std::vector<std::string>>();
  auto allowed = std::make_shared<std::vector<std::string>>();
  auto json = std::make_shared<bool>(false);
  CLI::App* c = app.add_subcommand("validate", "check a pipeline file and print its chain of shapes");
  c->add_option("pipeline", *path, "pipeline file (.yaml)")->required();
  c->add_option("--plugin", *plugins, "extra plugin file (repeatable)");
  c->add_option("--allow-plugin", *allowed, "folder a pipeline's plugins: may load from (repeatable; loading runs their code)");
  c->add_flag("--json", *json, "print the chain as JSON (steps, resolved parameters, shapes, streaming), or the error");
  return [path, plugins, allowed, json] {
    LoadOptions lo;
    lo.plugin_files = *plugins;
    lo.allowed_plugin_dirs = *allowed;
    std::shared_ptr<const Pipeline> pipe;
    try {
      pipe = Pipeline::load(*path, lo);
    } catch (const Error& e) {
      if (!*json) throw;
      std::cout << validate_error_json(e.what());
      return 2;
    }
    if (*json) {
      std::cout << validate_json(*pipe);
      return 0;
    }
    std::cout << pipe->file() << ": '" << pipe->name() << "', " << count_text(pipe->steps().size(), "step") << "\n";
    size_t k = 0;
    size_t width = 0;
    for (const auto& s : pipe->steps()) width = std::max(width, s.use.size() + (s.id.empty() ? 0 : s.id.size() + 3));
    for (const auto& s : pipe->steps()) {
      std::string label = s.use + (s.id.empty() ? "" : " (" + s.id + ")");
      std::printf("  %zu  %-*s -> %s\n", ++k, static_cast<int>(width), label.c_str(), s.output.axes_text().c_str());
      std::string d = params_flow(s.params_json);
      if (!s.description.empty()) d += "\n" + s.description;
      size_t pos = 0;
      while (pos < d.size()) {
        size_t nl = d.find('\n', pos);
        if (nl == std::string::npos) nl = d.size();
        std::printf("       %s\n", d.substr(pos, nl - pos).c_str());
        pos = nl + 1;
      }
    }
    std::cout << streaming_line(*pipe) << "\n";
    for (const auto& w : pipe->warnings()) std::cerr << "warning: " << w << "\n";
    std::cout << "ok\n";
    return 0;
  };
}

}  // namespace featpipe::cli
