// How many CPUs this process can use: what `server.threads: 0` starts one worker for.
//
// std::thread::hardware_concurrency() counts the machine's CPUs. A gateway in a container with a
// CPU limit (Kubernetes `resources.limits.cpu`, `docker run --cpus`), or pinned with taskset or a
// cpuset, can use fewer: with one worker per machine CPU, 64 event loops on a 2-CPU quota are
// throttled in turn and every request waits for its loop's next slice. UsableCpus() is the
// smallest of the machine's count, the process's affinity mask and the CPU quotas of the
// cgroups it is in (v2 `cpu.max` up the hierarchy, v1 `cpu.cfs_quota_us`), a fractional quota
// rounded up.
//
// The parsers are pure; UsableCpus() reads /proc and /sys. Thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sy::core {

// The CPUs a quota of `quota_us` per `period_us` is worth, rounded up (1.5 CPUs -> 2); nullopt
// when it sets no limit (a negative quota: v1's -1) or the numbers are not a quota.
std::optional<int> CpusOfQuota(int64_t quota_us, int64_t period_us);

// A cgroup v2 `cpu.max` file ("max 100000" is no limit, "150000 100000" 2 CPUs).
std::optional<int> CpusOfCpuMax(std::string_view cpu_max);

// The cgroup path in /proc/self/cgroup's text: the v2 entry ("0::/system.slice/x.service"),
// or the v1 hierarchy whose controllers include "cpu" ("4:cpu,cpuacct:/docker/abc"). nullopt
// when there is none.
std::optional<std::string> CgroupV2Path(std::string_view proc_self_cgroup);
std::optional<std::string> CgroupV1CpuPath(std::string_view proc_self_cgroup);

// The fewest of: `machine`, `affinity` and `quota`, each when known (> 0 or set); at least 1.
int FewestCpus(unsigned machine, int affinity, std::optional<int> quota);

// This process's usable CPUs, as the header says. Never less than 1.
int UsableCpus();

}  // namespace sy::core
