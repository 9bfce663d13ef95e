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

#include <functional>
#include <memory>
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

// Up to `processes` child processes (no more than there are jobs, at least
// one), each making its worker after fork. A child that dies fails the job
// it was on (the entry says how it died) and is replaced. Throws Error when
// a child cannot make its worker. Not yet offered by `featpipe run`.
std::unique_ptr<Executor> process_executor(int processes);

}  // namespace featpipe
