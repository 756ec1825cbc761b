// `switchyard route explain`: reading the request file (audit 2, finding 5: `--request
// /dev/zero` grew to 7 GB before the body was compared with server.max_body_bytes).
#include "app/cli/route_command.h"

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>
#include <unistd.h>

namespace sy::app {
namespace {

class RouteExplainTest : public ::testing::Test {
 protected:
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove(path_, ec);
  }

  // A file of this test's own, `size` bytes of holes (no disk).
  std::string Sparse(uintmax_t size) {
    path_ = ::testing::TempDir() + "route_explain_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name() + "_" +
            std::to_string(::getpid()) + ".json";
    std::ofstream(path_).close();
    std::filesystem::resize_file(path_, size);
    return path_;
  }

  int Run(const std::string& request_path) {
    err_.str("");
    std::ostringstream out;
    RouteExplainArgs args;
    args.request_path = request_path;
    return RunRouteExplain(args, out, err_);
  }

  std::string path_;
  std::ostringstream err_;
};

TEST_F(RouteExplainTest, RefusesARequestFileThatIsNotARegularFileUnread) {
  EXPECT_EQ(Run("/dev/zero"), 2);
  EXPECT_EQ(err_.str(), "switchyard route explain: --request /dev/zero: not a regular file\n");
}

// The demo configuration's server.max_body_bytes is the default, 8 MiB.
TEST_F(RouteExplainTest, RefusesARequestFileOverMaxBodyBytesUnread) {
  const std::string path = Sparse((8 << 20) + 1);
  EXPECT_EQ(Run(path), 2);
  EXPECT_EQ(err_.str(), "switchyard route explain: --request " + path +
                            ": larger than 8388608 bytes (server.max_body_bytes)\n");
}

}  // namespace
}  // namespace sy::app
