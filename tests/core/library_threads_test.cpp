// FEATPIPE_THREADS as `featpipe run` sets it for its workers
// (library_threads.hpp): each worker's share of the cores, the user's own
// value kept, the environment put back after the run.
#include "batch/library_threads.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <string>

namespace featpipe {
namespace {

std::string threads_env() {
  const char* v = std::getenv("FEATPIPE_THREADS");
  return v ? v : "(unset)";
}

TEST(LibraryThreads, EachWorkerGetsItsShareForTheRunOnly) {
  ::unsetenv("FEATPIPE_THREADS");
  const int cores = usable_cores();
  ASSERT_GE(cores, 1);
  {
    const LibraryThreads share(2);
    EXPECT_EQ(threads_env(), std::to_string(std::max(1, cores / 2)));
  }
  EXPECT_EQ(threads_env(), "(unset)");
  {
    const LibraryThreads share(1);
    EXPECT_EQ(threads_env(), std::to_string(cores));
  }
  {
    const LibraryThreads share(cores + 7);  // more workers than cores: one thread each
    EXPECT_EQ(threads_env(), "1");
  }
  EXPECT_EQ(threads_env(), "(unset)");
}

TEST(LibraryThreads, TheUsersValueIsKept) {
  ::setenv("FEATPIPE_THREADS", "3", 1);
  {
    const LibraryThreads share(64);
    EXPECT_EQ(threads_env(), "3");
  }
  EXPECT_EQ(threads_env(), "3");
  ::unsetenv("FEATPIPE_THREADS");
}

}  // namespace
}  // namespace featpipe
