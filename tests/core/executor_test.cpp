// The thread executor: every job once, workers made up front, completions
// one at a time.
#include "batch/executor.hpp"

#include <featpipe/featpipe.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <set>

using namespace featpipe;

namespace {

std::vector<Job> jobs(int n) {
  std::vector<Job> out;
  for (int k = 0; k < n; ++k) out.push_back(Job{"in" + std::to_string(k), "", "out" + std::to_string(k), Job::Action::run, ""});
  return out;
}

}  // namespace

TEST(ThreadExecutor, RunsEveryJobOnceAndReportsEach) {
  for (int threads : {1, 3, 8}) {
    const auto js = jobs(40);
    std::atomic<int> made{0};
    std::vector<int> runs(js.size(), 0);  // written by workers, each index by one
    std::multiset<size_t> done;
    int in_done = 0, overlapped = 0;
    std::set<int> workers_used;
    std::mutex mu;
    thread_executor(threads)->run(
        js,
        [&](int w) -> Executor::Worker {
          ++made;
          return [&, w](const Job& j) {
            {
              std::lock_guard<std::mutex> lock(mu);
              workers_used.insert(w);
            }
            ManifestEntry e;
            e.input = j.input;
            e.output = j.output;
            ++runs[std::stoul(j.input.substr(2))];
            return e;
          };
        },
        [&](size_t k, ManifestEntry e) {
          if (in_done++) ++overlapped;
          EXPECT_EQ(e.input, js[k].input);
          done.insert(k);
          --in_done;
        });
    EXPECT_EQ(made.load(), threads) << threads;
    EXPECT_EQ(overlapped, 0);
    EXPECT_EQ(done.size(), js.size());
    EXPECT_EQ(std::set<size_t>(done.begin(), done.end()).size(), js.size());
    for (int r : runs) EXPECT_EQ(r, 1);
    for (int w : workers_used) EXPECT_LT(w, threads);
  }
}

TEST(ThreadExecutor, NoMoreWorkersThanJobsButAtLeastOne) {
  int made = 0;
  auto count = [&](int) -> Executor::Worker {
    ++made;
    return [](const Job&) { return ManifestEntry{}; };
  };
  thread_executor(4)->run(jobs(2), count, [](size_t, ManifestEntry) {});
  EXPECT_EQ(made, 2);
  made = 0;
  thread_executor(4)->run({}, count, [](size_t, ManifestEntry) {});
  EXPECT_EQ(made, 1);
}

TEST(ThreadExecutor, AWorkerThatCannotBeMadeStopsBeforeAnyJob) {
  int ran = 0;
  EXPECT_THROW(thread_executor(2)->run(
                   jobs(5),
                   [&](int w) -> Executor::Worker {
                     if (w == 1) throw Error("no session");
                     return [&](const Job&) {
                       ++ran;
                       return ManifestEntry{};
                     };
                   },
                   [](size_t, ManifestEntry) {}),
               Error);
  EXPECT_EQ(ran, 0);
}
