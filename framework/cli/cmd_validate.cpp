// featpipe validate PIPELINE: load plugins, check every step and the chain
// of shapes; print the chain (resolved parameters, shapes), its streaming
// latency and frame rate, or --json. Processes nothing.
#include "commands.hpp"
#include "options.hpp"
#include "validate_report.hpp"

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
    std::cout << validate_text(*pipe);
    for (const auto& w : pipe->warnings()) std::cerr << "warning: " << w << "\n";
    std::cout << "ok\n";
    return 0;
  };
}

}  // namespace featpipe::cli
