#include "tests/testutil/server_tests.h"

#include <string_view>

namespace sy::testutil {

int ServerTestsExitCode(int run_result, const TestTally& tally, const char* require_servers) {
  if (run_result != 0 || tally.failed > 0) return 1;
  if (tally.skipped == 0) return 0;
  const std::string_view required = require_servers ? require_servers : "";
  return required.empty() || required == "0" ? kSkippedExitCode : 1;
}

}  // namespace sy::testutil
