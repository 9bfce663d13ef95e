// The thread executor: every job once, workers made up front, completions
// one at a time.
#include "batch/executor.hpp"

#include <featpipe/featpipe.hpp>

#include <gtest/gtest.h>

#include <unistd.h>

#include <atomic>
#include <csignal>
#include <optional>
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

// Worker processes: the entries come back whole; a worker that dies fails
// only the job it was on, and a new one takes the rest.
TEST(ProcessExecutor, EntriesComeBackWholeAndACrashFailsOneJob) {
  auto js = jobs(12);
  js[3].input = "crash";
  js[8].input = "exit";
  std::vector<std::optional<ManifestEntry>> got(js.size());
  process_executor(3)->run(
      js,
      [](int w) -> Executor::Worker {
        return [w](const Job& j) {
          if (j.input == "crash") raise(SIGKILL);
          if (j.input == "exit") _exit(7);
          ManifestEntry e;
          e.input = j.input;
          e.output = j.output;
          e.shape = {w, 2};
          e.axes = {"worker", "x\xe9"};  // invalid UTF-8 is replaced, not fatal
          e.media_seconds = 0.5;
          e.seconds = 0.25;
          return e;
        };
      },
      [&](size_t k, ManifestEntry e) {
        EXPECT_FALSE(got[k]) << "job " << k << " reported twice";
        got[k] = std::move(e);
      });
  for (size_t k = 0; k < js.size(); ++k) {
    ASSERT_TRUE(got[k]) << "job " << k << " not reported";
    EXPECT_EQ(got[k]->input, js[k].input);
    EXPECT_EQ(got[k]->output, js[k].output);
    if (k == 3) {
      EXPECT_EQ(got[k]->status, ManifestEntry::Status::error);
      EXPECT_NE(got[k]->error.find("signal 9"), std::string::npos) << got[k]->error;
    } else if (k == 8) {
      EXPECT_EQ(got[k]->status, ManifestEntry::Status::error);
      EXPECT_EQ(got[k]->error, "the worker process exited with status 7");
    } else {
      EXPECT_EQ(got[k]->status, ManifestEntry::Status::ok) << got[k]->error;
      ASSERT_EQ(got[k]->shape.size(), 2u);
      EXPECT_GE(got[k]->shape[0], 0);
      EXPECT_LT(got[k]->shape[0], 3);
      EXPECT_EQ(got[k]->axes, (std::vector<std::string>{"worker", "x\xef\xbf\xbd"}));
      EXPECT_DOUBLE_EQ(got[k]->media_seconds, 0.5);
      EXPECT_DOUBLE_EQ(got[k]->seconds, 0.25);
    }
  }
}

TEST(ProcessExecutor, AWorkerThatCannotBeMadeStopsBeforeAnyJob) {
  bool reported = false;
  try {
    process_executor(2)->run(
        jobs(4),
        [](int w) -> Executor::Worker {
          if (w == 1) throw Error("no session for worker 1");
          return [](const Job&) { return ManifestEntry{}; };
        },
        [&](size_t, ManifestEntry) { reported = true; });
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "no session for worker 1");
  }
  EXPECT_FALSE(reported);
}

TEST(ProcessExecutor, EveryJobOnceWithOneProcessAndNone) {
  std::vector<int> seen;
  process_executor(1)->run(jobs(5), [](int) -> Executor::Worker { return [](const Job& j) {
    ManifestEntry e;
    e.input = j.input;
    e.output = j.output;
    return e; }; }, [&](size_t k, ManifestEntry e) {
    EXPECT_EQ(e.input, "in" + std::to_string(k));
    seen.push_back(static_cast<int>(k));
  });
  EXPECT_EQ(seen, (std::vector<int>{0, 1, 2, 3, 4}));
  int made = 0;
  process_executor(4)->run({}, [&](int) -> Executor::Worker { ++made; return [](const Job&) { return ManifestEntry{}; }; },
                           [](size_t, ManifestEntry) {});
  EXPECT_EQ(made, 0);  // made in the child: the parent's counter never moves
}
