// Executors run a plan's jobs: how many at once, and where.
//
// The runner hands an executor the jobs, a factory for workers and a
// completion callback. A worker runs one job at a time and returns its
// manifest entry (run_job with the worker's own session); the factory builds
// one per worker, in whatever thread or process will run it. Entries come
// back as values (JSON-able), so an executor that runs workers in child
// processes - a crashing plugin then fails one input, not the run - can
// ship them over a pipe and report a dead child's job as an error entry,
// without the runner changing.
#pragma once

#include "manifest_entry.hpp"
#include "plan.hpp"

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace featpipe {

class Executor {
 public:
  using Worker = std::function<ManifestEntry(const Job&)>;
  using MakeWorker = std::function<Worker(int worker)>;
  // Called once per job, never two at a time, and must not throw; `job`
  // indexes the plan.
  using Done = std::function<void(size_t job, ManifestEntry entry)>;

  virtual ~Executor() = default;
  // Runs every job once. Workers are made before any job runs, so a worker
  // that cannot be made (a stage failing to instantiate) throws from here
  // with nothing processed.
  virtual void run(const std::vector<Job>& jobs, const MakeWorker& make_worker, const Done& done) = 0;
};

// Up to `threads` threads (no more than there are jobs, at least one), one
// of them the caller's, taking jobs in plan order.
std::unique_ptr<Executor> thread_executor(int threads);

struct ProcessOptions {
  int processes = 1;
  // Address space per child (RLIMIT_AS), bytes; 0: none. An input that
  // needs more fails with a message naming the limit instead of taking the
  // machine. Ignored when !memory_limit_supported() (runner.hpp).
  uint64_t max_memory = 0;
  // Held while forking, so that the caller's other threads (the progress
  // display) hold no lock the child could need.
  std::function<std::unique_lock<std::mutex>()> hold_threads;
};

// Up to `processes` child processes (no more than there are jobs, at least
// one), each making its worker after fork. A child that dies fails the job
// it was on (the entry names the signal and the step it was in) and is
// replaced. Throws Error when a child cannot make its worker.
std::unique_ptr<Executor> process_executor(ProcessOptions options);
inline std::unique_ptr<Executor> process_executor(int processes) {
  ProcessOptions o;
  o.processes = processes;
  return process_executor(std::move(o));
}

// "4 GiB", "512 MiB", "1.5 GiB".
std::string describe_bytes(uint64_t bytes);

}  // namespace featpipe
