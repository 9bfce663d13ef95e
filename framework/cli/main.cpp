// featpipe — command-line entry point.
#include "commands.hpp"

#include <featpipe/plugin.h>  // the ABI version --version reports

#include <cstdlib>
#include <iostream>
#include <map>

int main(int argc, char** argv) {
  CLI::App app{"featpipe " FEATPIPE_VERSION " — feature pipelines for speech and image classifiers", "featpipe"};
  // Where the built-in stages come from: the first question when a stage is missing.
  app.set_version_flag("--version", [] {
    const char* env = std::getenv("FEATPIPE_PLUGIN_PATH");
    return std::string("featpipe " FEATPIPE_VERSION "\nplugin ABI " FP_ABI_VERSION_STRING "\nbuilt-in plugins: ") +
           featpipe::builtin_plugin_folder() + "\nFEATPIPE_PLUGIN_PATH: " + (env && *env ? env : "(not set)");
  });
  app.require_subcommand(1);
  app.footer("Run `featpipe COMMAND --help` for a command's options.");

  const std::map<std::string, featpipe::cli::Action> actions = {
      {"run", featpipe::cli::add_run(app)},
      {"status", featpipe::cli::add_status(app)},
      {"cmvn-stats", featpipe::cli::add_cmvn_stats(app)},
      {"validate", featpipe::cli::add_validate(app)},
      {"stages", featpipe::cli::add_stages(app)},
      {"stream", featpipe::cli::add_stream(app)},
      {"plot", featpipe::cli::add_plot(app)},
      {"index-plugins", featpipe::cli::add_index_plugins(app)},
  };

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? 0 : 2;  // usage errors: 2, as documented
  }
  for (const auto& [name, action] : actions)
    if (app.got_subcommand(name)) {
      try {
        return action();
      } catch (const featpipe::Error& e) {
        std::cerr << "error: " << e.what() << "\n";
        return 2;
      } catch (const std::exception& e) {
        std::cerr << "error: " << e.what() << "\n";
        return 2;
      }
    }
  return 2;
}
