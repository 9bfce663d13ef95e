#include "library_threads.hpp"

#include <sched.h>

#include <algorithm>
#include <cstdlib>
#include <string>
#include <thread>

namespace featpipe {

int usable_cores() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (::sched_getaffinity(0, sizeof set, &set) == 0) return std::max(1, CPU_COUNT(&set));
  return std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
}

LibraryThreads::LibraryThreads(int workers) {
  const char* cur = std::getenv("FEATPIPE_THREADS");
  if (cur && *cur) return;
  const int share = std::max(1, usable_cores() / std::max(1, workers));
  set_ = ::setenv("FEATPIPE_THREADS", std::to_string(share).c_str(), 1) == 0;
}

LibraryThreads::~LibraryThreads() {
  if (set_) ::unsetenv("FEATPIPE_THREADS");
}

}  // namespace featpipe
