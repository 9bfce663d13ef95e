#include "progress_monitor.hpp"

#include <chrono>

namespace featpipe {

ProgressMonitor::ProgressMonitor(double interval, std::function<void()> tick) {
  if (!tick) return;
  thread_ = std::thread([this, interval, tick = std::move(tick)] {
    std::unique_lock<std::mutex> lock(mu_);
    started_ = true;
    cv_.notify_all();
    while (!cv_.wait_for(lock, std::chrono::duration<double>(interval), [&] { return stop_; })) tick();
  });
  // Returns once the thread waits in its loop: a thread still starting up
  // (allocating its stack, TLS, a sanitizer's thread state) may hold a lock
  // of the allocator that a worker forked at that instant would find held
  // forever. hold() then guarantees a thread at rest.
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [&] { return started_; });
}

void ProgressMonitor::stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

}  // namespace featpipe
