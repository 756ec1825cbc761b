#include "core/cpus.h"

#include <algorithm>
#include <charconv>
#include <climits>
#include <fstream>
#include <thread>

#include <sched.h>

#include "core/text.h"

namespace sy::core {
namespace {

// The files read here are a line or a few; a longer one is not what it should be.
constexpr std::streamsize kMaxFileBytes = 4096;

std::optional<int64_t> ParseInt(std::string_view text) {
  int64_t value = 0;
  const char* end = text.data() + text.size();
  auto [at, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc() || at != end) return std::nullopt;
  return value;
}

std::optional<std::string> ReadSmallFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::string text(static_cast<size_t>(kMaxFileBytes), '\0');
  in.read(text.data(), kMaxFileBytes);
  text.resize(static_cast<size_t>(in.gcount()));
  return text;
}

// Each line of /proc/self/cgroup is "hierarchy-id:controllers:path"; the path of the first line
// whose controllers `wanted` accepts.
template <typename Wanted>
std::optional<std::string> PathOf(std::string_view proc_self_cgroup, Wanted wanted) {
  while (!proc_self_cgroup.empty()) {
    const size_t eol = proc_self_cgroup.find('\n');
    const std::string_view line = proc_self_cgroup.substr(0, eol);
    proc_self_cgroup.remove_prefix(eol == std::string_view::npos ? proc_self_cgroup.size()
                                                                 : eol + 1);
    const size_t first = line.find(':');
    const size_t second = first == std::string_view::npos ? first : line.find(':', first + 1);
    if (second == std::string_view::npos) continue;
    const std::string_view id = line.substr(0, first);
    const std::string_view controllers = line.substr(first + 1, second - first - 1);
    const std::string_view path = line.substr(second + 1);
    if (!path.empty() && path.front() == '/' && wanted(id, controllers)) return std::string(path);
  }
  return std::nullopt;
}

bool KeepFewest(std::optional<int>& fewest, std::optional<int> found) {
  if (found && (!fewest || *found < *fewest)) fewest = found;
  return found.has_value();
}

// The fewest CPUs `read` finds in the cgroup directory at `path` below `root` and in each of its
// ancestors up to `root` (CgroupQuotaCpus' walk). A path with ".." is not walked: only `root`
// is read.
template <typename Read>
std::optional<int> FewestUpFrom(const std::string& root, std::string path, Read read) {
  std::optional<int> fewest;
  if (path.find("..") != std::string::npos) path = "/";
  while (true) {
    KeepFewest(fewest, read(path == "/" ? root : root + path));
    if (path == "/" || path.empty()) break;
    path.resize(path.rfind('/'));
    if (path.empty()) path = "/";
  }
  return fewest;
}

int AffinityCpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) != 0) return 0;  // unknown (over 1024 CPUs)
  return CPU_COUNT(&set);
}

}  // namespace

std::optional<int> CpusOfQuota(int64_t quota_us, int64_t period_us) {
  if (quota_us <= 0 || period_us <= 0) return std::nullopt;
  const int64_t cpus = quota_us / period_us + (quota_us % period_us != 0 ? 1 : 0);
  return static_cast<int>(std::min<int64_t>(cpus, INT_MAX));
}

std::optional<int> CpusOfCpuMax(std::string_view cpu_max) {
  const std::string_view text = TrimSpace(cpu_max);
  const size_t space = text.find(' ');
  if (space == std::string_view::npos) return std::nullopt;
  const auto quota = ParseInt(text.substr(0, space));  // "max": no limit
  const auto period = ParseInt(TrimSpace(text.substr(space + 1)));
  if (!quota || !period) return std::nullopt;
  return CpusOfQuota(*quota, *period);
}

std::optional<std::string> CgroupV2Path(std::string_view proc_self_cgroup) {
  return PathOf(proc_self_cgroup, [](std::string_view id, std::string_view controllers) {
    return id == "0" && controllers.empty();
  });
}

std::optional<std::string> CgroupV1CpuPath(std::string_view proc_self_cgroup) {
  return PathOf(proc_self_cgroup, [](std::string_view id, std::string_view controllers) {
    if (id == "0") return false;
    while (!controllers.empty()) {
      const size_t comma = controllers.find(',');
      if (controllers.substr(0, comma) == "cpu") return true;
      controllers.remove_prefix(comma == std::string_view::npos ? controllers.size() : comma + 1);
    }
    return false;
  });
}

std::optional<int> CgroupQuotaCpus(std::string_view proc_self_cgroup, const CgroupMounts& mounts) {
  std::optional<int> fewest;
  if (const auto v2 = CgroupV2Path(proc_self_cgroup)) {
    KeepFewest(fewest, FewestUpFrom(mounts.unified, *v2, [](const std::string& dir) {
                 const auto text = ReadSmallFile(dir + "/cpu.max");
                 return text ? CpusOfCpuMax(*text) : std::nullopt;
               }));
  }
  if (const auto v1 = CgroupV1CpuPath(proc_self_cgroup)) {
    for (const std::string& root : mounts.cpu_v1) {
      const bool found =
          KeepFewest(fewest, FewestUpFrom(root, *v1, [](const std::string& dir) {
                       const auto quota = ReadSmallFile(dir + "/cpu.cfs_quota_us");
                       const auto period = ReadSmallFile(dir + "/cpu.cfs_period_us");
                       const auto q = quota ? ParseInt(TrimSpace(*quota)) : std::nullopt;
                       const auto p = period ? ParseInt(TrimSpace(*period)) : std::nullopt;
                       return q && p ? CpusOfQuota(*q, *p) : std::nullopt;
                     }));
      if (found) break;  // the two names are often one directory and its link
    }
  }
  return fewest;
}

int FewestCpus(unsigned machine, int affinity, std::optional<int> quota) {
  int fewest = machine > 0 ? static_cast<int>(std::min<unsigned>(machine, INT_MAX)) : INT_MAX;
  if (affinity > 0) fewest = std::min(fewest, affinity);
  if (quota) fewest = std::min(fewest, *quota);
  return fewest == INT_MAX ? 1 : std::max(fewest, 1);
}

int UsableCpus() {
  CgroupMounts mounts;
  // A hybrid system mounts the unified hierarchy at /sys/fs/cgroup/unified.
  if (!std::ifstream(mounts.unified + "/cgroup.controllers").good()) mounts.unified += "/unified";
  const auto self = ReadSmallFile("/proc/self/cgroup");
  const auto quota = self ? CgroupQuotaCpus(*self, mounts) : std::nullopt;
  return FewestCpus(std::thread::hardware_concurrency(), AffinityCpus(), quota);
}

}  // namespace sy::core
