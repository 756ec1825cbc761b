// How a test binary on a real server reports to ctest (server_tests.h): the rules, and the
// main() that applies them, run on a probe binary whose tests pass, skip or fail.
#include "tests/testutil/server_tests.h"

#include <cstdlib>
#include <string>

#include <gtest/gtest.h>
#include <sys/wait.h>

namespace sy::testutil {
namespace {

TEST(ServerTestsExitCode, FailsOnAFailureSkipsOnASkipAndPassesOnlyWhenAllRan) {
  const struct {
    int run_result;
    TestTally tally;
    const char* require;
    int exit_code;
  } cases[] = {
      {0, {5, 0, 0}, nullptr, 0},
      {0, {5, 0, 0}, "1", 0},
      {0, {0, 0, 0}, nullptr, 0},  // nothing selected: GoogleTest's own verdict
      {1, {4, 0, 1}, nullptr, 1},
      {1, {0, 0, 0}, nullptr, 1},  // a failure outside any test (an environment's SetUp)
      {0, {4, 1, 0}, nullptr, kSkippedExitCode},  // a partial skip is not a pass
      {0, {0, 5, 0}, nullptr, kSkippedExitCode},
      {0, {4, 1, 0}, "", kSkippedExitCode},
      {0, {4, 1, 0}, "0", kSkippedExitCode},
      {0, {4, 1, 0}, "1", 1},      // scripts/test.sh installs the servers: a skip fails
      {1, {3, 1, 1}, nullptr, 1},  // a failure is never hidden behind a skip
  };
  for (const auto& c : cases) {
    EXPECT_EQ(ServerTestsExitCode(c.run_result, c.tally, c.require), c.exit_code)
        << c.run_result << " " << c.tally.passed << "/" << c.tally.skipped << "/" << c.tally.failed
        << " require=" << (c.require ? c.require : "(unset)");
  }
}

// The probe's exit code with `filter` selecting its tests and `require` as the environment's
// SY_REQUIRE_TEST_SERVERS ("" for unset).
int ProbeExitCode(const std::string& filter, const std::string& require) {
  std::string command = "env -u " + std::string(kRequireServersEnv);
  if (!require.empty()) {
    command += " " + std::string(kRequireServersEnv) + "=" + require;
  }
  command +=
      " " + std::string(SY_SERVER_TESTS_PROBE) + " --gtest_filter='" + filter + "' >/dev/null 2>&1";
  const int status = std::system(command.c_str());
  if (status == -1 || !WIFEXITED(status)) {
    ADD_FAILURE() << command << ": did not exit (status " << status << ")";
    return -1;
  }
  return WEXITSTATUS(status);
}

// Regression: a pg or redis test binary whose test called GTEST_SKIP exited 0, and ctest, which
// runs it as one test, reported it as passed.
TEST(ServerTestMain, ASkippedTestIsReportedAsSkippedAndFailsWhereServersAreRequired) {
  EXPECT_EQ(ProbeExitCode("Probe.Passes", ""), 0);
  EXPECT_EQ(ProbeExitCode("Probe.Passes:Probe.Skips", ""), kSkippedExitCode);
  EXPECT_EQ(ProbeExitCode("Probe.Skips", ""), kSkippedExitCode);
  EXPECT_EQ(ProbeExitCode("Probe.*", ""), 1);
  EXPECT_EQ(ProbeExitCode("Probe.Passes:Probe.Skips", "1"), 1);
  EXPECT_EQ(ProbeExitCode("Probe.Passes", "1"), 0);
}

}  // namespace
}  // namespace sy::testutil
