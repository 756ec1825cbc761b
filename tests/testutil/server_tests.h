// How a test binary that runs on a real server (PostgreSQL: *_pg_test.cpp; Redis:
// *_redis_test.cpp) reports to ctest.
//
// Such a binary is one ctest, not one per test, so that its tests share one server (starting one
// takes 1-3 s). ctest then sees only the binary's exit code, and GoogleTest's main() exits 0 when
// a test skipped itself (GTEST_SKIP: "this PostgreSQL has no ICU collations"): the whole binary
// showed as Passed and the skip was lost. These binaries link server_test_main.cpp instead, whose
// exit code says:
//   - 1 when a test failed. Failure wins over a skip (ctest's SKIP_REGULAR_EXPRESSION would not:
//     output that matches it marks the test skipped whatever its exit code, hiding a failure).
//   - 1 when a test skipped and kRequireServersEnv is set: scripts/test.sh installs PostgreSQL and
//     Redis itself, so there a skip means the environment is not what the test command promises,
//     and the run must not pass without the tests it skipped.
//   - kSkippedExitCode (ctest SKIP_RETURN_CODE: "Skipped", listed among the tests that did not
//     run) when a test skipped otherwise, even if others passed: a partial skip is not a pass.
//     The binary's own output says how many passed and which skipped.
//   - 0 when every test that ran passed.
//
// Thread-safety: pure functions.
#pragma once

#include <string_view>

namespace sy::testutil {

// The exit code that ctest reads as "skipped" for these binaries (SKIP_RETURN_CODE; 77 as in
// Automake's convention).
inline constexpr int kSkippedExitCode = 77;

// Set (to anything but "" or "0") by scripts/test.sh: a skipped test fails its binary.
inline constexpr const char* kRequireServersEnv = "SY_REQUIRE_TEST_SERVERS";

struct TestTally {
  int passed = 0;
  int skipped = 0;
  int failed = 0;
};

// The binary's exit code, by the rules above. `run_result` is RUN_ALL_TESTS()'s (non-zero also
// for a failure outside any test); `require_servers` is kRequireServersEnv's value (null when
// unset).
int ServerTestsExitCode(int run_result, const TestTally& tally, const char* require_servers);

}  // namespace sy::testutil
