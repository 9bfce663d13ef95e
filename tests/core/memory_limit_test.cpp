// --max-memory's default under a cgroup memory limit: v2 memory.max, v1
// memory.limit_in_bytes, a limit on a parent (a Slurm job above its step),
// "max" and v1's "no limit", and a cgroup folder the namespace hides.
#include "batch/memory_limit.hpp"

#include <featpipe/runner.hpp>

#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>

using namespace featpipe;
namespace fs = std::filesystem;

namespace {

class CgroupTree : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("featpipe-cgroup-" + std::to_string(::getpid()));
    fs::remove_all(root_);
    fs::create_directories(root_);
  }
  void TearDown() override { fs::remove_all(root_); }
  void put(const std::string& rel, const std::string& text) {
    fs::create_directories((root_ / rel).parent_path());
    std::ofstream(root_ / rel) << text << "\n";
  }
  uint64_t limit(const std::string& proc_cgroup) { return cgroup_memory_limit(proc_cgroup, root_.string()); }
  fs::path root_;
};

TEST_F(CgroupTree, V2LimitOfTheProcessCgroup) {
  put("memory.max", "max");
  put("kubepods/pod1/memory.max", "4294967296");
  EXPECT_EQ(limit("0::/kubepods/pod1\n"), 4294967296u);
}

TEST_F(CgroupTree, V2SmallestLimitUpTheTreeCounts) {
  // Slurm: the job's cgroup has the limit, the step below it has none.
  put("slurm/job_7/memory.max", "2147483648");
  put("slurm/job_7/step_0/memory.max", "max");
  put("slurm/job_7/step_0/task_0/memory.max", "8589934592");
  EXPECT_EQ(limit("0::/slurm/job_7/step_0/task_0\n"), 2147483648u);
}

TEST_F(CgroupTree, V2NoLimitAnywhereIsZero) {
  put("memory.max", "max");
  put("a/memory.max", "max");
  EXPECT_EQ(limit("0::/a\n"), 0u);
}

TEST_F(CgroupTree, V1MemoryControllerLine) {
  put("memory/memory.limit_in_bytes", "9223372036854771712");  // v1's "unlimited"
  put("memory/docker/abc/memory.limit_in_bytes", "1073741824");
  EXPECT_EQ(limit("12:pids:/docker/abc\n4:memory:/docker/abc\n1:cpu,cpuacct:/docker/abc\n"), 1073741824u);
  EXPECT_EQ(limit("4:cpu,memory:/docker/abc\n"), 1073741824u);  // comounted controllers
}

TEST_F(CgroupTree, V1UnlimitedIsZero) {
  put("memory/memory.limit_in_bytes", "9223372036854771712");
  EXPECT_EQ(limit("4:memory:/\n"), 0u);
}

TEST_F(CgroupTree, HiddenCgroupFolderFallsBackToTheRoot) {
  // Inside a container's cgroup namespace /proc/self/cgroup may name a path
  // the mounted tree does not have; the limit is then on the root's file.
  put("memory.max", "3221225472");
  EXPECT_EQ(limit("0::/outside/view\n"), 3221225472u);
}

TEST_F(CgroupTree, UnreadableOrGarbageIsZero) {
  put("memory.max", "lots");
  EXPECT_EQ(limit("0::/\n"), 0u);
  EXPECT_EQ(limit("garbage without colons\n"), 0u);
  EXPECT_EQ(limit(""), 0u);
}

TEST(MemoryDefault, NeverAboveUsableMemoryPerWorkerAndAtLeastOneGiB) {
  const uint64_t usable = usable_memory();
  ASSERT_GT(usable, 0u);
  EXPECT_EQ(default_max_memory(1), std::max<uint64_t>(usable, uint64_t{1} << 30));
  EXPECT_EQ(default_max_memory(4), std::max<uint64_t>(usable / 4, uint64_t{1} << 30));
  EXPECT_EQ(default_max_memory(1 << 20), uint64_t{1} << 30);
}

}  // namespace
