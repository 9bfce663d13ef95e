// featpipe — where plugins' log lines go (fp_host.log in plugin.h).
//
//   featpipe::set_log_handler([](featpipe::LogLevel level, const std::string& plugin,
//                                const std::string& message) { ... });
//
// Without a handler, warnings and errors go to stderr as
// "featpipe: <plugin>: <message>"; debug and info lines are dropped.
#pragma once

#include <featpipe/featpipe.hpp>

#include <functional>
#include <string>

namespace featpipe {

enum class LogLevel { debug = FP_LOG_DEBUG, info = FP_LOG_INFO, warning = FP_LOG_WARNING, error = FP_LOG_ERROR };

// `plugin` is the name the plugin gave (fp_plugin.name). Called from any
// thread that runs plugin code, so the handler must be thread-safe.
using LogHandler = std::function<void(LogLevel level, const std::string& plugin, const std::string& message)>;

// Replaces the handler for the whole process; an empty one restores the
// default. Returns the previous handler.
FEATPIPE_API LogHandler set_log_handler(LogHandler handler);

}  // namespace featpipe
