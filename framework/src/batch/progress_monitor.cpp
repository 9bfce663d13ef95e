#include "progress_monitor.hpp"

#include <chrono>

namespace featpipe {

ProgressMonitor::ProgressMonitor(double interval, std::function<void()> tick) {
  if (!tick) return;
  thread_ = std::thread([this, interval, tick = std::move(tick)] {
    std::unique_lock<std::mutex> lock(mu_);
    while (!cv_.wait_for(lock, std::chrono::duration<double>(interval), [&] { return stop_; })) tick();
  });
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
