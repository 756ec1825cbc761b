#include "core/cpus.h"

#include <algorithm>
#include <climits>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include <gtest/gtest.h>
#include <sched.h>
#include <stdlib.h>

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

// A cgroup tree in a temporary directory: the unified mount at <dir>/unified, v1's cpu at
// <dir>/cpu.
class CgroupTreeTest : public testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (std::filesystem::temp_directory_path() / "sy-cgroup-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    mounts_.unified = dir_ + "/unified";
    mounts_.cpu_v1 = {dir_ + "/cpu,cpuacct", dir_ + "/cpu"};
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  void Write(const std::string& path, const std::string& text) {
    std::filesystem::create_directories(std::filesystem::path(dir_ + path).parent_path());
    std::ofstream(dir_ + path) << text;
  }

  std::string dir_;
  CgroupMounts mounts_;
};

TEST_F(CgroupTreeTest, AParentsQuotaLimitsItsChildren) {
  Write("/unified/a/cpu.max", "200000 100000\n");
  Write("/unified/a/b/cpu.max", "max 100000\n");
  EXPECT_EQ(CgroupQuotaCpus("0::/a/b\n", mounts_), 2);
  Write("/unified/a/b/cpu.max", "50000 100000\n");  // the child's own, tighter
  EXPECT_EQ(CgroupQuotaCpus("0::/a/b\n", mounts_), 1);
}

TEST_F(CgroupTreeTest, APathTheMountDoesNotHaveIsWalkedUpToWhatItHas) {
  // A container without its own cgroup namespace: /proc/self/cgroup names the host's path, and
  // the container's own cgroup is mounted at the root.
  Write("/unified/cpu.max", "300000 100000\n");
  EXPECT_EQ(CgroupQuotaCpus("0::/kubepods/pod1/abc\n", mounts_), 3);
  EXPECT_EQ(CgroupQuotaCpus("0::/../escape\n", mounts_), 3);  // ".." is not walked
}

TEST_F(CgroupTreeTest, NoQuotaAnywhereIsNone) {
  Write("/unified/a/cpu.max", "max 100000\n");
  EXPECT_EQ(CgroupQuotaCpus("0::/a\n", mounts_), std::nullopt);
  EXPECT_EQ(CgroupQuotaCpus("", mounts_), std::nullopt);
}

TEST_F(CgroupTreeTest, ReadsV1QuotaFilesUnderTheCpuMount) {
  Write("/cpu/docker/cpu.cfs_quota_us", "-1\n");
  Write("/cpu/docker/cpu.cfs_period_us", "100000\n");
  Write("/cpu/docker/abc/cpu.cfs_quota_us", "150000\n");
  Write("/cpu/docker/abc/cpu.cfs_period_us", "100000\n");
  EXPECT_EQ(CgroupQuotaCpus(kDockerV1, mounts_), 2);
  // Both hierarchies on a hybrid system: the fewer wins.
  Write("/unified/x/cpu.max", "100000 100000\n");
  EXPECT_EQ(CgroupQuotaCpus(std::string(kDockerV1) + "0::/x\n", mounts_), 1);
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
