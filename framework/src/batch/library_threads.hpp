// Each worker's share of the cores for the libraries its stages use
// (OpenMP, OpenBLAS, OpenCV): `featpipe run -j N` with N workers on C cores
// caps each at max(1, C / N) threads, as each library would otherwise start
// a pool as large as the machine in every worker. The share reaches plugins as the
// environment variable FEATPIPE_THREADS, set in the runner's process before
// the workers start (forked children inherit it; a thread executor's
// workers read the same); a value the user set is kept.
#pragma once

#include <optional>
#include <string>

namespace featpipe {

// The cores this process may run on (its CPU affinity, as taskset and
// container limits set it), at least 1.
int usable_cores();

// Sets FEATPIPE_THREADS to usable_cores() / workers for its lifetime unless
// it is set already; puts back what was there. Make it before any thread
// that could read the environment starts.
class LibraryThreads {
 public:
  explicit LibraryThreads(int workers);
  ~LibraryThreads();
  LibraryThreads(const LibraryThreads&) = delete;
  LibraryThreads& operator=(const LibraryThreads&) = delete;

 private:
  bool set_ = false;
};

}  // namespace featpipe
