// Calls a function every `interval` seconds from a thread of its own until
// stopped: the progress display of a run, off the workers' path.
#pragma once

#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

namespace featpipe {

class ProgressMonitor {
 public:
  // An empty `tick` starts no thread.
  ProgressMonitor(double interval, std::function<void()> tick);
  ~ProgressMonitor() { stop(); }
  ProgressMonitor(const ProgressMonitor&) = delete;
  ProgressMonitor& operator=(const ProgressMonitor&) = delete;
  // Returns once the thread has ended (no tick runs after).
  void stop();
  // While the lock is held no tick runs (ticks run under it): a fork then
  // copies no lock that the tick holds.
  std::unique_lock<std::mutex> hold() { return std::unique_lock<std::mutex>(mu_); }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  bool started_ = false;
  std::thread thread_;
};

}  // namespace featpipe
