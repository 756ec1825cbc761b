#include "app/cli/plan_command.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>

#include <gtest/gtest.h>
#include <unistd.h>

#include "ledger/sqlite_ledger.h"

namespace sy::app {
namespace {

// A workload file of this test's own (tests of one binary may run at once).
class PlanCommandTest : public ::testing::Test {
 protected:
  void TearDown() override { std::remove(path_.c_str()); }

  std::string Write(const std::string& yaml) {
    path_ = ::testing::TempDir() + "plan_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name() + "_" +
            std::to_string(::getpid()) + ".yaml";
    std::ofstream(path_) << yaml;
    return path_;
  }

  int Run(PlanArgs args) {
    out_.str("");
    err_.str("");
    return RunPlan(args, out_, err_);
  }

  std::string path_;
  std::ostringstream out_, err_;
};

// The issue's hand-checked figures, on the demo catalog.
constexpr const char* kWorkload = R"(
buckets:
  - {name: repetitive, input_tokens: 100000000, output_tokens: 20000000}
  - {name: hard, input_tokens: 30000000, output_tokens: 10000000}
  - name: routed
    input_tokens: 0
    output_tokens: 0
    samples: ["Extract the invoice number from: Invoice #4411", "Write a haiku about rain"]
policies:
  - {name: all-frontier, models: {"*": gpt-5.5}}
  - {name: cheap, models: {repetitive: deepseek-v4-flash, hard: gpt-5.5, routed: auto}}
)";

TEST_F(PlanCommandTest, PricesTheDemoCatalogExactly) {
  PlanArgs args{.workload_path = Write(kWorkload), .format = "json"};
  args.policies = {"pro=repetitive:deepseek-v4-pro,gpt-5.5"};
  ASSERT_EQ(Run(args), 0) << err_.str();
  const std::string json = out_.str();
  EXPECT_NE(json.find(R"("name":"all-frontier","total_usd":"1550.00")"), std::string::npos) << json;
  EXPECT_NE(
      json.find(
          R"("name":"cheap","total_usd":"469.60","total_exact_usd":"469.6","savings_usd":"1080.40")"),
      std::string::npos)
      << json;
  EXPECT_NE(json.find(R"("name":"pro","total_usd":"693.60")"), std::string::npos) << json;
  // The routed bucket's samples were classified and routed by the demo policy.
  EXPECT_NE(json.find(R"("target":"auto")"), std::string::npos) << json;
  EXPECT_NE(json.find(R"("samples":)"), std::string::npos) << json;
}

TEST_F(PlanCommandTest, SplitsAModelBetweenDifferentlyPricedDeployments) {
  // The demo's llama-4-maverick: an API host (weight 3, 0.15 / 0.60) and a self-hosted copy
  // (weight 1, 0.05 / 0.10). 4M in + 4M out: 3M each way at 0.75 = 2.25, 1M each at 0.15.
  PlanArgs args{.workload_path = Write(R"(
buckets: [{name: b, input_tokens: 4000000, output_tokens: 4000000}]
policies: [{name: llama, models: {b: llama-4-maverick}}]
)"),
                .format = "json"};
  ASSERT_EQ(Run(args), 0) << err_.str();
  const std::string json = out_.str();
  EXPECT_NE(json.find(R"({"model":"llama-4-maverick/meta","input_tokens":3000000,)"
                      R"("output_tokens":3000000,"cost_usd":"2.25")"),
            std::string::npos)
      << json;
  EXPECT_NE(json.find(R"({"model":"llama-4-maverick/self-hosted","input_tokens":1000000,)"
                      R"("output_tokens":1000000,"cost_usd":"0.15")"),
            std::string::npos)
      << json;
  EXPECT_NE(json.find(R"("total_usd":"2.40")"), std::string::npos) << json;
}

TEST_F(PlanCommandTest, SelfHostAndFormats) {
  PlanArgs args{.workload_path = Write(kWorkload), .self_host = "8,2.50,2400"};
  ASSERT_EQ(Run(args), 0) << err_.str();
  EXPECT_NE(out_.str().find("14600.00 USD a month"), std::string::npos) << out_.str();
  args.format = "markdown";
  ASSERT_EQ(Run(args), 0) << err_.str();
  EXPECT_NE(out_.str().find("| all-frontier | 1550.00 | 0.00 | 0.0 |"), std::string::npos)
      << out_.str();
}

TEST_F(PlanCommandTest, ErrorsExitTwoWithTheReason) {
  PlanArgs args{.workload_path = Write(kWorkload)};
  args.policies = {"x=kimi-k9"};
  EXPECT_EQ(Run(args), 2);
  EXPECT_EQ(err_.str(),
            "switchyard plan: policy x, bucket repetitive: \"kimi-k9\" is not a model, an alias "
            "or a routing profile of the config\n");
  args.policies = {"x=repetitive:auto,gpt-5.5"};
  EXPECT_EQ(Run(args), 2);
  EXPECT_EQ(err_.str(),
            "switchyard plan: policy x, bucket repetitive: auto is a routing profile: the bucket "
            "needs samples (prompts like its traffic) to route\n");
  EXPECT_EQ(Run({.workload_path = "/nonexistent/w.yaml"}), 2);
  EXPECT_EQ(err_.str(), "switchyard plan: workload file /nonexistent/w.yaml: no such file\n");
  EXPECT_EQ(Run({}), 2);
  EXPECT_EQ(err_.str(), "switchyard plan: give either --workload FILE or --from-ledger DB\n");
  EXPECT_EQ(Run({.workload_path = path_, .from = "2026-11-01"}), 2);
  EXPECT_EQ(err_.str(),
            "switchyard plan: --from and --to bound the ledger's requests: they need "
            "--from-ledger\n");
  EXPECT_EQ(Run({.from_ledger = "/nonexistent/ledger.db"}), 2);
  EXPECT_EQ(err_.str(), "switchyard plan: --from-ledger needs at least one --policy to compare\n");
}

// Regression: the workload's token count (the recorded report's input plus output tokens) was
// added without an overflow check, so a ledger holding one request with a saturated input count
// (an absurd upstream usage is recorded as INT64_MAX tokens) was undefined behaviour (the
// sanitizer build aborted). The count saturates: it only sizes the break-even volume.
TEST_F(PlanCommandTest, FromALedgerWithASaturatedTokenCount) {
  // A directory of its own: the ledger leaves its -wal, -shm and spill files beside the file.
  const std::string dir = ::testing::TempDir() + "plan_saturated_" + std::to_string(::getpid());
  std::filesystem::create_directories(dir);
  const std::string ledger_path = dir + "/ledger.db";
  {
    auto sink = ledger::SqliteLedger::Open({.path = ledger_path});
    ASSERT_TRUE(sink.has_value()) << sink.error().message;
    ledger::Record r;
    r.request_id = "r1";
    r.chosen_model = "gpt-5.5";
    r.task_type = "code";
    r.started_at_ms = 1'764'669'600'000;
    r.status = 200;
    r.usage.input_tokens = std::numeric_limits<int64_t>::max();
    r.usage.output_tokens = 10;
    r.usage.reported = true;
    r.cost = core::Money::FromPico(1);
    (*sink)->Append(std::move(r));
    (*sink)->Close();
  }
  const int status = Run({.policies = {"gpt-5.5"},
                          .self_host = "1,2.00,1000",
                          .from_ledger = ledger_path,
                          .format = "json"});
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  EXPECT_EQ(status, 0) << err_.str();
  EXPECT_NE(out_.str().find("\"workload_tokens\":9223372036854775807"), std::string::npos)
      << out_.str();
}

TEST(ParsePolicySpecTest, ReadsNamesEntriesAndDefaults) {
  auto bare = ParsePolicySpec("gpt-5.5");
  ASSERT_TRUE(bare.has_value());
  EXPECT_EQ(bare->name, "gpt-5.5");
  EXPECT_EQ(bare->TargetFor("anything"), "gpt-5.5");
  auto mixed = ParsePolicySpec("mixed=code:deepseek-v4-flash,extraction:economy,gpt-5.5");
  ASSERT_TRUE(mixed.has_value());
  EXPECT_EQ(mixed->name, "mixed");
  EXPECT_EQ(mixed->TargetFor("code"), "deepseek-v4-flash");
  EXPECT_EQ(mixed->TargetFor("extraction"), "economy");
  EXPECT_EQ(mixed->TargetFor("chat"), "gpt-5.5");
  for (const char* bad : {"", "=gpt-5.5", "x=", "x=code:", "x=:gpt-5.5", "x=a,,b"}) {
    EXPECT_FALSE(ParsePolicySpec(bad).has_value()) << bad;
  }
  EXPECT_FALSE(ParsePolicySpec(std::string(5000, 'a')).has_value());
}

}  // namespace
}  // namespace sy::app
