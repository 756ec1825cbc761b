#include "core/cpus.h"

#include <algorithm>
#include <climits>
#include <thread>

#include <gtest/gtest.h>
#include <sched.h>

namespace sy::core {
namespace {

TEST(CpusOfQuota, RoundsAFractionalQuotaUpAndReadsNoLimitAsNone) {
  struct Case {
    int64_t quota, period;
    std::optional<int> cpus;
  };
  for (const Case& c : {
           Case{100000, 100000, 1},
           Case{150000, 100000, 2},  // 1.5 CPUs: a second loop gets the other half
           Case{50000, 100000, 1},
           Case{400000, 100000, 4},
           Case{1, 100000, 1},
           Case{-1, 100000, std::nullopt},  // v1's "no limit"
           Case{0, 100000, std::nullopt},
           Case{100000, 0, std::nullopt},
           Case{INT64_MAX, 1, INT_MAX},
       }) {
    EXPECT_EQ(CpusOfQuota(c.quota, c.period), c.cpus) << c.quota << " / " << c.period;
  }
}

TEST(CpusOfCpuMax, ReadsTheKernelsTwoFields) {
  struct Case {
    const char* text;
    std::optional<int> cpus;
  };
  for (const Case& c : {
           Case{"max 100000\n", std::nullopt},
           Case{"200000 100000\n", 2},
           Case{"250000 100000", 3},
           Case{"  50000   100000  \n", 1},
           Case{"max", std::nullopt},
           Case{"200000", std::nullopt},
           Case{"", std::nullopt},
           Case{"two 100000", std::nullopt},
           Case{"200000 100000 7", std::nullopt},
       }) {
    EXPECT_EQ(CpusOfCpuMax(c.text), c.cpus) << c.text;
  }
}

// What this VM's hybrid hierarchy writes, and what a v2-only system and a v1 container write.
constexpr const char* kHybrid =
    "9:name=systemd:/\n8:pids:/\n4:memory:/process_api/3ae7\n3:cpuset:/\n2:cpuacct:/\n"
    "1:cpu:/\n0::/\n";
constexpr const char* kUnified = "0::/system.slice/switchyard.service\n";
constexpr const char* kDockerV1 =
    "12:pids:/docker/abc\n4:cpu,cpuacct:/docker/abc\n3:cpuset:/docker/abc\n1:name=systemd:/x\n";

TEST(CgroupPaths, FindTheUnifiedEntryAndTheHierarchyWithTheCpuController) {
  EXPECT_EQ(CgroupV2Path(kHybrid), "/");
  EXPECT_EQ(CgroupV2Path(kUnified), "/system.slice/switchyard.service");
  EXPECT_EQ(CgroupV2Path(kDockerV1), std::nullopt);
  EXPECT_EQ(CgroupV1CpuPath(kHybrid), "/");
  EXPECT_EQ(CgroupV1CpuPath(kDockerV1), "/docker/abc");
  EXPECT_EQ(CgroupV1CpuPath(kUnified), std::nullopt);
  // "cpuacct" and "cpuset" are not "cpu"; a line without a path is skipped.
  EXPECT_EQ(CgroupV1CpuPath("2:cpuacct:/a\n3:cpuset:/b\n4:cpu\n"), std::nullopt);
  EXPECT_EQ(CgroupV2Path(""), std::nullopt);
}

TEST(FewestCpus, TakesTheSmallestKnownLimit) {
  EXPECT_EQ(FewestCpus(64, 64, 2), 2);  // a 2-CPU container on a 64-CPU node
  EXPECT_EQ(FewestCpus(64, 4, std::nullopt), 4);
  EXPECT_EQ(FewestCpus(4, 8, 16), 4);
  EXPECT_EQ(FewestCpus(8, 0, std::nullopt), 8);  // affinity unknown
  EXPECT_EQ(FewestCpus(0, 0, std::nullopt), 1);  // nothing known
  EXPECT_EQ(FewestCpus(0, 3, std::nullopt), 3);
}

TEST(UsableCpus, FollowsTheCallingThreadsAffinity) {
  const int all = UsableCpus();
  EXPECT_GE(all, 1);
  EXPECT_LE(static_cast<unsigned>(all), std::max(1u, std::thread::hardware_concurrency()));
  int pinned = 0;
  std::thread([&] {
    cpu_set_t one;
    CPU_ZERO(&one);
    const auto here = static_cast<size_t>(sched_getcpu());
    CPU_SET(here, &one);
    ASSERT_EQ(sched_setaffinity(0, sizeof(one), &one), 0);
    pinned = UsableCpus();
  }).join();
  EXPECT_EQ(pinned, 1);
}

}  // namespace
}  // namespace sy::core
