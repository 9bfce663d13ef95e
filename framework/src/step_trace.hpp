// Which step a session is in, for whoever watches this thread: a worker
// process reports it when a stage crashes or exhausts memory (a signal
// leaves no exception to name the step). One store per stage call when
// nobody watches.
#pragma once

#include <string>

namespace featpipe::step_trace {

using Hook = void (*)(const std::string& context);  // "step 2 'audio.stft'"

// Per thread. Inline: one copy per binary, so only code in the engine
// library sees what the engine's sessions report.
inline thread_local Hook hook = nullptr;

inline void enter(const std::string& context) {
  if (hook) hook(context);
}

}  // namespace featpipe::step_trace
