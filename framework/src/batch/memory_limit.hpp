// How much memory this process may use: physical memory, or less when a
// cgroup caps it (a container, a Kubernetes pod's limit, a Slurm job with
// ConstrainRAMSpace). --max-memory's default shares it among the workers, so
// a worker fails its input with a clear message before the kernel's OOM
// killer picks a process of the run.
#pragma once

#include <cstdint>
#include <string>

namespace featpipe {

// The smallest memory limit of the cgroup named in `proc_self_cgroup` (the
// text of /proc/self/cgroup) and of its ancestors, read under `fs_root`
// (normally /sys/fs/cgroup): cgroup v2 memory.max, or v1
// memory/memory.limit_in_bytes. 0 when none is set ("max", or v1's
// page-rounded 2^63) or none can be read. When the cgroup's own folder is
// not visible (a container's cgroup namespace), the root's files count.
uint64_t cgroup_memory_limit(const std::string& proc_self_cgroup, const std::string& fs_root);

// Physical memory, capped by this process's cgroup limit when lower.
uint64_t usable_memory();

}  // namespace featpipe
