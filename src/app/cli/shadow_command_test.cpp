#include "app/cli/shadow_command.h"

#include <filesystem>
#include <sstream>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include "ledger/record.h"
#include "ledger/sqlite_ledger.h"

namespace sy::app {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

ledger::Record Live() {
  ledger::Record r;
  r.request_id = "live-1";
  r.started_at_ms = 1'764'633'600'000;  // 2025-12-02
  r.tenant = "acme";
  r.chosen_model = "small";
  r.cost = core::Money::FromPico(1'000'000'000);
  r.status = 200;
  r.profile = "auto";
  r.rule = "cheap";
  r.latency_ms = 120;
  return r;
}

ledger::Record Shadow() {
  ledger::Record r = Live();
  r.request_id = "shadow-1";
  r.requested_model = "big";
  r.chosen_model = "big";
  r.cost = core::Money::FromPico(3'000'000'000);
  r.latency_ms = 450;
  r.shadow_of = "live-1";
  r.agreement = "exact";
  return r;
}

// A ledger file of this test's own (tests of one binary may run at once).
class ShadowCommandTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = ::testing::TempDir() + "shadow_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name() + "_" +
            std::to_string(::getpid()) + ".db";
    auto ledger = ledger::SqliteLedger::Open({.path = path_});
    ASSERT_TRUE(ledger.has_value()) << ledger.error().message;
    (*ledger)->Append(Live());
    (*ledger)->Append(Shadow());
    (*ledger)->Close();
  }
  void TearDown() override {
    for (const char* suffix : {"", "-wal", "-shm", ".spill"}) {
      std::filesystem::remove(path_ + suffix);
    }
  }

  int Run(ShadowReportArgs args) {
    out_.str("");
    err_.str("");
    return RunShadowReportCommand(args, out_, err_);
  }

  std::string path_;
  std::ostringstream out_, err_;
};

TEST_F(ShadowCommandTest, PrintsEachFormat) {
  ASSERT_EQ(Run({.ledger = path_, .format = "json"}), 0) << err_.str();
  EXPECT_THAT(out_.str(),
              StartsWith(R"({"groups":[{"rule":"auto/cheap","live_model":"small",)"
                         R"("shadow_model":"big","shadows":1,"shadow_errors":0,)"
                         R"("live_found":1,"live_cost_usd":"0.001",)"
                         R"("shadow_cost_usd":"0.003","cost_ratio":"3.0000",)"
                         R"("live_p50_ms":120,"live_p95_ms":120,"shadow_p50_ms":450,)"));
  EXPECT_EQ(err_.str(), "");
  ASSERT_EQ(Run({.ledger = path_}), 0) << err_.str();
  EXPECT_THAT(out_.str(), StartsWith("rule        live_model  shadow_model  shadows"));
  EXPECT_THAT(out_.str(), HasSubstr("\nTOTAL "));
  ASSERT_EQ(Run({.ledger = path_, .format = "markdown"}), 0) << err_.str();
  EXPECT_THAT(out_.str(), StartsWith("| rule | live_model | shadow_model |"));
}

TEST_F(ShadowCommandTest, FiltersByRuleTenantAndTime) {
  struct Case {
    ShadowReportArgs args;
    const char* want;
  };
  const Case cases[] = {
      {{.ledger = path_, .rule = "cheap", .format = "json"}, R"("total":{"shadows":1,)"},
      {{.ledger = path_, .rule = "auto/cheap", .format = "json"}, R"("total":{"shadows":1,)"},
      {{.ledger = path_, .rule = "other", .format = "json"}, R"("total":{"shadows":0,)"},
      {{.ledger = path_, .from = "2025-12-03", .format = "json"}, R"("total":{"shadows":0,)"},
      {{.ledger = path_, .to = "2025-12-03", .format = "json"}, R"("total":{"shadows":1,)"},
      {{.ledger = path_, .tenant = "", .tenant_set = true, .format = "json"},
       R"("total":{"shadows":0,)"},
  };
  for (const Case& c : cases) {
    ASSERT_EQ(Run(c.args), 0) << err_.str();
    EXPECT_THAT(out_.str(), HasSubstr(c.want));
  }
}

TEST_F(ShadowCommandTest, ErrorsExitTwoWithTheReason) {
  struct Case {
    ShadowReportArgs args;
    const char* want;
  };
  const Case cases[] = {
      {{}, "--ledger FILE|URL or --config FILE"},
      {{.ledger = path_, .config = "x.yaml"}, "--ledger FILE|URL or --config FILE"},
      {{.ledger = path_, .from = "yesterday"}, "--from: "},
      {{.ledger = path_ + ".missing"}, "does not exist"},
      {{.config = path_ + ".missing.yaml"}, ".missing.yaml"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(Run(c.args), 2);
    EXPECT_THAT(err_.str(), StartsWith("switchyard shadow: "));
    EXPECT_THAT(err_.str(), HasSubstr(c.want));
    EXPECT_EQ(out_.str(), "");
  }
}

}  // namespace
}  // namespace sy::app
