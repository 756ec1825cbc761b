// main() of the test binaries that run on a real server: GoogleTest's, with the exit code of
// server_tests.h, so that ctest shows a skipped test instead of a pass.
#include <cstdio>
#include <cstdlib>
#include <string>

#include <gtest/gtest.h>

#include "tests/testutil/server_tests.h"

namespace {

// The full names of the tests that skipped, comma-separated.
std::string SkippedNames(const testing::UnitTest& unit) {
  std::string names;
  for (int i = 0; i < unit.total_test_suite_count(); ++i) {
    const testing::TestSuite& suite = *unit.GetTestSuite(i);
    for (int j = 0; j < suite.total_test_count(); ++j) {
      const testing::TestInfo& test = *suite.GetTestInfo(j);
      if (!test.should_run() || !test.result()->Skipped()) continue;
      if (!names.empty()) names += ", ";
      names += std::string(test.test_suite_name()) + "." + test.name();
    }
  }
  return names;
}

}  // namespace

int main(int argc, char** argv) {
  testing::InitGoogleTest(&argc, argv);
  const int run_result = RUN_ALL_TESTS();
  const testing::UnitTest& unit = *testing::UnitTest::GetInstance();
  const sy::testutil::TestTally tally{unit.successful_test_count(), unit.skipped_test_count(),
                                      unit.failed_test_count()};
  const char* required = std::getenv(sy::testutil::kRequireServersEnv);
  const int code = sy::testutil::ServerTestsExitCode(run_result, tally, required);
  if (tally.skipped > 0) {
    std::fprintf(stderr, "server tests: %d passed, %d failed, %d skipped (%s): %s\n", tally.passed,
                 tally.failed, tally.skipped, SkippedNames(unit).c_str(),
                 code == sy::testutil::kSkippedExitCode
                     ? "reported to ctest as skipped (set SY_REQUIRE_TEST_SERVERS=1 to fail)"
                     : "a failure: SY_REQUIRE_TEST_SERVERS is set (scripts/test.sh installs the "
                       "servers these tests need)");
  }
  return code;
}
