// featpipe stages [FAMILY|NAME] [--json|--markdown]: what the loaded plugins provide.
#include "commands.hpp"
#include "stage_reference.hpp"

#include <cstdio>
#include <iostream>
#include <set>

namespace featpipe::cli {

namespace {

void print_stage(const StageDoc& d) {
  std::cout << d.name << " — " << d.doc << "\n";
  std::cout << "plugin: " << d.plugin_name << " " << d.plugin_version << " (" << d.plugin_file << ")\n";
  if (!d.extensions.empty()) std::cout << "reads files: " << d.extensions << "\n";
  std::cout << (d.params.empty() ? "parameters: none\n" : "parameters:\n");
  for (const auto& p : d.params) {
    std::cout << "  " << p.name << ": " << p.type << "  default: " << p.default_value;
    if (!p.unit.empty()) std::cout << "  [" << p.unit << "]";
    std::cout << "\n";
    if (!p.doc.empty()) std::cout << "      " << p.doc << "\n";
  }
  if (!d.example.empty()) std::cout << "example:\n" << d.example << "\n";
}

}  // namespace

Action add_stages(CLI::App& app) {
  auto name = std::make_shared<std::string>();
  auto plugins = std::make_shared<std::vector<std::string>>();
  auto json = std::make_shared<bool>(false);
  auto markdown = std::make_shared<bool>(false);
  CLI::App* c = app.add_subcommand("stages", "list the stages plugins provide, a family's, or describe one");
  c->add_option("name", *name, "a family (audio, image, cnn, math, norm, tensor) or a stage name, e.g. audio.stft");
  c->add_option("--plugin", *plugins, "extra plugin file (repeatable)");
  auto* j = c->add_flag("--json", *json, "print the stages as JSON: plugin, doc, flags, every parameter's schema");
  c->add_flag("--markdown", *markdown, "print the stages as a Markdown reference (docs/stages.md)")->excludes(j);
  return [name, plugins, json, markdown] {
    const std::vector<StageDoc> all = available_stages(*plugins);
    std::vector<StageDoc> stages;
    bool one = false;
    for (const auto& s : all)
      if (s.name == *name) stages = {s}, one = true;
    if (!one)
      for (const auto& s : all)
        if (name->empty() || family_of(s.name) == *name) stages.push_back(s);
    if (stages.empty()) {
      std::set<std::string> families;
      std::vector<std::string> names;
      for (const auto& s : all) {
        names.push_back(s.name);
        families.insert(family_of(s.name));
      }
      names.insert(names.end(), families.begin(), families.end());
      // A dotted name is a stage; a bare word may be either.
      std::cerr << "error: " << (name->find('.') != std::string::npos ? "unknown stage '" : "no stage or family '") << *name
                << "'";
      auto near = closest_names(*name, names);
      for (size_t k = 0; k < near.size(); ++k) std::cerr << (k ? " or " : "; did you mean ") << near[k];
      std::cerr << (near.empty() ? " (`featpipe stages` lists them)\n" : "?\n");
      return 2;
    }
    if (*json) {
      std::cout << stages_json(stages);
    } else if (*markdown) {
      std::cout << stages_markdown(stages, *name);
    } else if (one) {
      print_stage(stages.front());
    } else {
      size_t width = 0;
      for (const auto& s : stages) width = std::max(width, s.name.size());
      for (const auto& s : stages) {
        std::string doc = s.doc;
        if (size_t nl = doc.find('\n'); nl != std::string::npos) doc.resize(nl);
        std::printf("%-*s  %s\n", static_cast<int>(width), s.name.c_str(), doc.c_str());
      }
    }
    return 0;
  };
}

Action add_index_plugins(CLI::App& app) {
  auto dir = std::make_shared<std::string>();
  CLI::App* c = app.add_subcommand("index-plugins", "write a plugin folder's index (which plugin provides which stage)");
  c->add_option("folder", *dir, "a folder of plugins")->required()->check(CLI::ExistingDirectory);
  return [dir] {
    write_plugin_index(*dir);
    return 0;
  };
}

}  // namespace featpipe::cli
