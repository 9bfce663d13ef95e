// What the engine gives plugins (fp_host): its version, a log function and
// its extensions. One fp_host per plugin, so a log line names its plugin.
#pragma once

#include <featpipe/plugin.h>

#include <string>

namespace featpipe {

struct PluginHost {
  fp_host host{};
  std::string plugin_name;  // for log lines
};

// Fills `h` for the plugin called `name`.
void init_host(PluginHost& h, const std::string& name);

}  // namespace featpipe
