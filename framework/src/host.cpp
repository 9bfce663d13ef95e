#include "host.hpp"

#include <featpipe/log.hpp>

#include <cstdio>
#include <mutex>

namespace featpipe {

namespace {

std::mutex& handler_mutex() {
  static std::mutex mu;
  return mu;
}

LogHandler& handler() {
  static LogHandler h;
  return h;
}

void host_log(const fp_host* host, fp_log_level level, const char* message) {
  const auto* self = static_cast<const PluginHost*>(host->host_data);
  const std::string text = message ? message : "";
  const auto lvl = static_cast<LogLevel>(level < FP_LOG_DEBUG ? FP_LOG_DEBUG : level > FP_LOG_ERROR ? FP_LOG_ERROR : level);
  LogHandler h;
  {
    std::lock_guard<std::mutex> lock(handler_mutex());
    h = handler();
  }
  if (h) {
    try {
      h(lvl, self->plugin_name, text);
    } catch (...) {  // never unwind into plugin code
    }
    return;
  }
  if (lvl >= LogLevel::warning) std::fprintf(stderr, "featpipe: %s: %s\n", self->plugin_name.c_str(), text.c_str());
}

// No engine extensions yet: the query exists so plugins can probe for them.
const void* host_extension(const fp_host*, const char*) { return nullptr; }

}  // namespace

LogHandler set_log_handler(LogHandler h) {
  std::lock_guard<std::mutex> lock(handler_mutex());
  std::swap(handler(), h);
  return h;
}

void init_host(PluginHost& h, const std::string& name) {
  h.plugin_name = name;
  h.host.abi = fp_version FP_ABI_VERSION_INIT;
  h.host.struct_size = sizeof(fp_host);
  h.host.name = "featpipe";
  h.host.version = FEATPIPE_VERSION;
  h.host.host_data = &h;
  h.host.log = &host_log;
  h.host.get_extension = &host_extension;
}

}  // namespace featpipe
