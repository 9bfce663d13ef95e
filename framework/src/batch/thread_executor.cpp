#include "executor.hpp"

#include <algorithm>
#include <atomic>
#include <mutex>
#include <thread>

namespace featpipe {

namespace {

class ThreadExecutor final : public Executor {
 public:
  explicit ThreadExecutor(int threads) : threads_(threads) {}

  void run(const std::vector<Job>& jobs, const MakeWorker& make_worker, const Done& done) override {
    const int n = std::max(1, std::min<int>(threads_, static_cast<int>(jobs.size())));
    std::vector<Worker> workers;
    for (int w = 0; w < n; ++w) workers.push_back(make_worker(w));
    std::atomic<size_t> next{0};
    std::mutex done_mu;
    auto work = [&](int w) {
      for (size_t k; (k = next.fetch_add(1)) < jobs.size();) {
        ManifestEntry e = workers[w](jobs[k]);
        std::lock_guard<std::mutex> lock(done_mu);
        done(k, std::move(e));
      }
    };
    std::vector<std::thread> threads;
    for (int w = 1; w < n; ++w) threads.emplace_back(work, w);
    work(0);
    for (auto& t : threads) t.join();
  }

 private:
  int threads_;
};

}  // namespace

std::unique_ptr<Executor> thread_executor(int threads) { return std::make_unique<ThreadExecutor>(threads); }

}  // namespace featpipe
