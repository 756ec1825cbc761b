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
#include <vector>

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

// Where the cgroup hierarchies are mounted: the unified (v2) one, and the directories the v1
// "cpu" controller may be mounted at (tried in order; the first that holds a quota answers).
struct CgroupMounts {
  std::string unified = "/sys/fs/cgroup";
  std::vector<std::string> cpu_v1 = {"/sys/fs/cgroup/cpu,cpuacct", "/sys/fs/cgroup/cpu"};
};

// The fewest CPUs any CPU quota allows the process whose /proc/self/cgroup text is
// `proc_self_cgroup`, reading the quota files below `mounts`: its own cgroup's and every
// ancestor's up to the mount (a limit on a parent holds for its children). A cgroup path this
// mount namespace does not have (a container without its own cgroup namespace sees the host's)
// is walked up until it meets one it has. nullopt when no quota limits it.
std::optional<int> CgroupQuotaCpus(std::string_view proc_self_cgroup, const CgroupMounts& mounts);

// The fewest of: `machine`, `affinity` and `quota`, each when known (> 0 or set); at least 1.
int FewestCpus(unsigned machine, int affinity, std::optional<int> quota);

// This process's usable CPUs, as the header says. Never less than 1.
int UsableCpus();

}  // namespace sy::core
