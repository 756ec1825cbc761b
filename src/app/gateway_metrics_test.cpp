#include "app/gateway_metrics.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include "routing/decide.h"

namespace sy::app {
namespace {

using core::Money;
using std::chrono::microseconds;

std::optional<std::string> NoEnv(std::string_view) { return std::nullopt; }

constexpr std::string_view kYaml = R"(
providers:
  openai: {kind: openai, base_url: "https://api.openai.com/v1"}
  deepseek: {kind: openai, base_url: "https://api.deepseek.com"}
models:
  gpt-5.5: {provider: openai, price: {input: 5, output: 30}}
  flash:
    deployments:
      - {provider: deepseek}
      - {provider: deepseek, name: eu}
    price: {input: 0.14, output: 0.28}
)";

ledger::Attempt MakeAttempt(std::string model, std::string provider, std::string deployment,
                            std::string outcome) {
  ledger::Attempt a;
  a.model = std::move(model);
  a.provider = std::move(provider);
  a.deployment = std::move(deployment);
  a.outcome = std::move(outcome);
  return a;
}

ledger::Attempt Billed(ledger::Attempt a, int64_t input, int64_t output, Money cost) {
  a.usage.input_tokens = input;
  a.usage.output_tokens = output;
  a.usage.reported = true;
  a.cost = cost;
  return a;
}

ledger::Attempt Failed(ledger::Attempt a, std::string error_code) {
  a.error_code = std::move(error_code);
  return a;
}

// acme, streamed, OpenAI dialect: flash's first deployment fails, its second answers (verified).
ledger::Record FailoverRecord(Money cost) {
  ledger::Record r;
  r.request_id = "req_secret_never_a_label";
  r.tenant = "acme";
  r.key_id = "key_never_a_label";
  r.dialect = "openai";
  r.endpoint = "/v1/chat/completions";
  r.profile = "auto";
  r.rule = "cheap-extraction";
  r.chosen_model = "flash";
  r.provider = "deepseek";
  r.status = 200;
  r.stream = true;
  r.latency_ms = 1200;
  r.ttft_ms = 300;
  r.attempts.push_back(
      Failed(MakeAttempt("flash", "deepseek", "deepseek", "failed"), "upstream_unavailable"));
  ledger::Attempt ok = Billed(MakeAttempt("flash", "deepseek", "eu", "ok"), 1000, 50, cost);
  ok.usage.cached_input_tokens = 200;
  ok.verdict = "passed";
  r.attempts.push_back(ok);
  return r;
}

// beta, Anthropic dialect: flash's answer fails its check (billed all the same) and the request
// escalates to gpt-5.5, whose answer passes.
ledger::Record EscalatedRecord() {
  ledger::Record r;
  r.tenant = "beta";
  r.dialect = "anthropic";
  r.endpoint = "/v1/messages";
  r.rule = "alias";
  r.chosen_model = "gpt-5.5";
  r.provider = "openai";
  r.status = 200;
  r.latency_ms = 2500;
  ledger::Attempt rejected = Failed(Billed(MakeAttempt("flash", "deepseek", "deepseek", "rejected"),
                                           500, 40, Money::FromPico(81'200'000)),
                                    "verification_failed");
  rejected.verdict = "rejected: json_schema: /age: expected integer";
  r.attempts.push_back(rejected);
  ledger::Attempt ok = Billed(MakeAttempt("gpt-5.5", "openai", "openai", "ok"), 500, 40,
                              Money::FromPico(3'700'000'000));
  ok.usage.cache_write_input_tokens = 100;
  ok.verdict = "passed";
  r.attempts.push_back(ok);
  return r;
}

// acme: nobody answered; the second deployment was skipped (its breaker was open).
ledger::Record UnansweredRecord() {
  ledger::Record r;
  r.tenant = "acme";
  r.dialect = "openai";
  r.endpoint = "/v1/chat/completions";
  r.profile = "auto";
  r.rule = "cheap-extraction";
  r.status = 504;
  r.latency_ms = 30000;
  r.attempts.push_back(
      Failed(MakeAttempt("flash", "deepseek", "deepseek", "failed"), "upstream_timeout"));
  r.attempts.push_back(Failed(MakeAttempt("flash", "deepseek", "eu", "skipped"), "skipped"));
  return r;
}

// The lines of `text` that are samples of `family` (its name followed by '{', ' ' or '_').
std::vector<std::string> SamplesOf(const std::string& text, std::string_view family) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (!line.starts_with(family) || line.size() == family.size()) continue;
    const char next = line[family.size()];
    if (next == '{' || next == ' ' || next == '_') lines.push_back(line);
  }
  return lines;
}

using Lines = std::vector<std::string>;

bool Contains(const Lines& lines, const std::string& line) {
  return std::find(lines.begin(), lines.end(), line) != lines.end();
}

class GatewayMetricsTest : public ::testing::Test {
 protected:
  void SetUp() override { Build(""); }

  // The gateway's metrics over kYaml and `more` YAML (a metrics: block).
  void Build(std::string_view more) {
    auto config = config::ParseConfig(std::string(kYaml).append(more), "t.yaml", &NoEnv);
    ASSERT_TRUE(config.has_value()) << config.error().message;
    auto built = catalog::Catalog::Build(std::make_shared<const config::Config>(*config));
    ASSERT_TRUE(built.has_value()) << built.error().message;
    catalog_ = *built;
    health_ = std::make_unique<routing::Health>(routing::HealthFor(*catalog_));
    metrics_ = std::make_unique<GatewayMetrics>(*catalog_);
  }

  // Observes the scripted run: two tenants, a failover, an escalation, an unanswered request.
  void ObserveRun() {
    metrics_->Observe(FailoverRecord(Money::FromPico(123'456'789)), microseconds(40));
    metrics_->Observe(FailoverRecord(Money::FromPico(1)), microseconds(180));
    metrics_->Observe(EscalatedRecord(), microseconds(2'600));
    metrics_->Observe(UnansweredRecord(), microseconds(-5));  // clock skew: counts as 0
  }

  std::string Render(const LedgerStats& ledger = {}, const std::vector<BudgetUse>& budgets = {},
                     const std::vector<RouterCalibration>& routers = {}) {
    return metrics_->Render(*health_, ledger, budgets, routers);
  }

  std::shared_ptr<const catalog::Catalog> catalog_;
  std::unique_ptr<routing::Health> health_;
  std::unique_ptr<GatewayMetrics> metrics_;
};

TEST_F(GatewayMetricsTest, CountsRequestsByRouteAndStatus) {
  ObserveRun();
  EXPECT_EQ(SamplesOf(Render(), "switchyard_requests_total"),
            (Lines{"switchyard_requests_total{dialect=\"anthropic\",endpoint=\"/v1/messages\","
                   "profile=\"\",rule=\"alias\",model=\"gpt-5.5\",status=\"200\"} 1",
                   "switchyard_requests_total{dialect=\"openai\",endpoint=\"/v1/chat/completions\","
                   "profile=\"auto\",rule=\"cheap-extraction\",model=\"flash\",status=\"200\"} 2",
                   "switchyard_requests_total{dialect=\"openai\",endpoint=\"/v1/chat/completions\","
                   "profile=\"auto\",rule=\"cheap-extraction\",model=\"none\",status=\"504\"} 1"}));
}

TEST_F(GatewayMetricsTest, UnknownPathsShareOneEndpointLabel) {
  for (const char* path : {"/v1/nope", "/v1/x/../y", "/admin-probe"}) {
    ledger::Record r = UnansweredRecord();
    r.endpoint = path;
    r.status = 404;
    metrics_->Observe(r, microseconds(1));
  }
  EXPECT_EQ(SamplesOf(Render(), "switchyard_requests_total"),
            (Lines{"switchyard_requests_total{dialect=\"openai\",endpoint=\"other\","
                   "profile=\"auto\",rule=\"cheap-extraction\",model=\"none\",status=\"404\"} 3"}));
}

TEST_F(GatewayMetricsTest, CountsAttemptsFailoverReasonsAndVerdicts) {
  ObserveRun();
  const std::string text = Render();
  EXPECT_EQ(SamplesOf(text, "switchyard_attempts_total"),
            (Lines{
                "switchyard_attempts_total{model=\"flash\",provider=\"deepseek\","
                "deployment=\"deepseek\",outcome=\"failed\"} 3",
                "switchyard_attempts_total{model=\"flash\",provider=\"deepseek\","
                "deployment=\"deepseek\",outcome=\"rejected\"} 1",
                "switchyard_attempts_total{model=\"flash\",provider=\"deepseek\","
                "deployment=\"eu\",outcome=\"ok\"} 2",
                "switchyard_attempts_total{model=\"flash\",provider=\"deepseek\","
                "deployment=\"eu\",outcome=\"skipped\"} 1",
                "switchyard_attempts_total{model=\"gpt-5.5\",provider=\"openai\","
                "deployment=\"openai\",outcome=\"ok\"} 1",
            }));
  EXPECT_EQ(SamplesOf(text, "switchyard_attempt_errors_total"),
            (Lines{
                "switchyard_attempt_errors_total{model=\"flash\",provider=\"deepseek\",error="
                "\"skipped\"} 1",
                "switchyard_attempt_errors_total{model=\"flash\",provider=\"deepseek\","
                "error=\"upstream_timeout\"} 1",
                "switchyard_attempt_errors_total{model=\"flash\",provider=\"deepseek\","
                "error=\"upstream_unavailable\"} 2",
                "switchyard_attempt_errors_total{model=\"flash\",provider=\"deepseek\","
                "error=\"verification_failed\"} 1",
            }));
  EXPECT_EQ(SamplesOf(text, "switchyard_verifications_total"),
            (Lines{
                "switchyard_verifications_total{model=\"flash\",result=\"passed\"} 2",
                "switchyard_verifications_total{model=\"flash\",result=\"rejected\"} 1",
                "switchyard_verifications_total{model=\"gpt-5.5\",result=\"passed\"} 1",
            }));
}

TEST_F(GatewayMetricsTest, TokensAndCostArePerAttemptAndExact) {
  ObserveRun();
  const std::string text = Render();
  EXPECT_EQ(SamplesOf(text, "switchyard_tokens_total"),
            (Lines{
                "switchyard_tokens_total{model=\"flash\",provider=\"deepseek\",tenant=\"acme\","
                "kind=\"cached_input\"} 400",
                "switchyard_tokens_total{model=\"flash\",provider=\"deepseek\",tenant=\"acme\","
                "kind=\"input\"} 2000",
                "switchyard_tokens_total{model=\"flash\",provider=\"deepseek\",tenant=\"acme\","
                "kind=\"output\"} 100",
                "switchyard_tokens_total{model=\"flash\",provider=\"deepseek\",tenant=\"beta\","
                "kind=\"input\"} 500",
                "switchyard_tokens_total{model=\"flash\",provider=\"deepseek\",tenant=\"beta\","
                "kind=\"output\"} 40",
                "switchyard_tokens_total{model=\"gpt-5.5\",provider=\"openai\",tenant=\"beta\","
                "kind=\"cache_write\"} 100",
                "switchyard_tokens_total{model=\"gpt-5.5\",provider=\"openai\",tenant=\"beta\","
                "kind=\"input\"} 500",
                "switchyard_tokens_total{model=\"gpt-5.5\",provider=\"openai\",tenant=\"beta\","
                "kind=\"output\"} 40",
            }));
  // acme: 123'456'789 + 1 pico; beta's rejected flash answer is billed to flash, not gpt-5.5.
  EXPECT_EQ(SamplesOf(text, "switchyard_cost_usd_total"),
            (Lines{
                "switchyard_cost_usd_total{model=\"flash\",provider=\"deepseek\",tenant=\"acme\"} "
                "0.00012345679",
                "switchyard_cost_usd_total{model=\"flash\",provider=\"deepseek\",tenant=\"beta\"} "
                "0.0000812",
                "switchyard_cost_usd_total{model=\"gpt-5.5\",provider=\"openai\",tenant=\"beta\"} "
                "0.0037",
            }));
  // The lines add up to the records' costs to the pico-dollar.
  Money ledger_total;
  for (const auto& r :
       {FailoverRecord(Money::FromPico(123'456'789)), FailoverRecord(Money::FromPico(1)),
        EscalatedRecord(), UnansweredRecord()}) {
    for (const auto& a : r.attempts) ledger_total += a.cost;
  }
  Money metric_total;
  for (const std::string& line : SamplesOf(text, "switchyard_cost_usd_total")) {
    auto value = Money::Parse(line.substr(line.rfind(' ') + 1));
    ASSERT_TRUE(value.has_value()) << line;
    metric_total += *value;
  }
  EXPECT_EQ(metric_total, ledger_total);
  EXPECT_EQ(metric_total, Money::FromPico(3'904'656'790));
  // No request or key id reaches a label.
  EXPECT_EQ(text.find("never_a_label"), std::string::npos);
}

TEST_F(GatewayMetricsTest, Histograms) {
  ObserveRun();
  const std::string text = Render();
  const Lines buckets = SamplesOf(text, "switchyard_request_duration_seconds_bucket");
  // The two streamed requests took 1.2 s: over the 1 s bound, within 2.5 s.
  const std::string streamed =
      "switchyard_request_duration_seconds_bucket{dialect=\"openai\",stream=\"true\",le=";
  EXPECT_TRUE(Contains(buckets, streamed + "\"1\"} 0"));
  EXPECT_TRUE(Contains(buckets, streamed + "\"2.5\"} 2"));
  EXPECT_TRUE(Contains(buckets, streamed + "\"+Inf\"} 2"));
  EXPECT_EQ(buckets.size(), 3u * 14u);  // three children, 13 bounds and +Inf each
  EXPECT_EQ(
      SamplesOf(text, "switchyard_request_duration_seconds_sum"),
      (Lines{"switchyard_request_duration_seconds_sum{dialect=\"anthropic\",stream=\"false\"} "
             "2.5",
             "switchyard_request_duration_seconds_sum{dialect=\"openai\",stream=\"false\"} 30",
             "switchyard_request_duration_seconds_sum{dialect=\"openai\",stream=\"true\"} "
             "2.4"}));
  EXPECT_EQ(SamplesOf(text, "switchyard_time_to_first_token_seconds_count"),
            (Lines{"switchyard_time_to_first_token_seconds_count{model=\"flash\"} 2"}));
  EXPECT_EQ(SamplesOf(text, "switchyard_overhead_seconds"),
            (Lines{
                "switchyard_overhead_seconds_bucket{le=\"0.00001\"} 1",
                "switchyard_overhead_seconds_bucket{le=\"0.000025\"} 1",
                "switchyard_overhead_seconds_bucket{le=\"0.00005\"} 2",
                "switchyard_overhead_seconds_bucket{le=\"0.0001\"} 2",
                "switchyard_overhead_seconds_bucket{le=\"0.00025\"} 3",
                "switchyard_overhead_seconds_bucket{le=\"0.0005\"} 3",
                "switchyard_overhead_seconds_bucket{le=\"0.001\"} 3",
                "switchyard_overhead_seconds_bucket{le=\"0.0025\"} 3",
                "switchyard_overhead_seconds_bucket{le=\"0.005\"} 4",
                "switchyard_overhead_seconds_bucket{le=\"0.01\"} 4",
                "switchyard_overhead_seconds_bucket{le=\"0.025\"} 4",
                "switchyard_overhead_seconds_bucket{le=\"0.05\"} 4",
                "switchyard_overhead_seconds_bucket{le=\"0.1\"} 4",
                "switchyard_overhead_seconds_bucket{le=\"+Inf\"} 4",
                "switchyard_overhead_seconds_sum 0.00282",
                "switchyard_overhead_seconds_count 4",
            }));
}

TEST_F(GatewayMetricsTest, AuthFailuresAndLimits) {
  metrics_->ObserveAuthFailure("invalid");
  metrics_->ObserveAuthFailure("invalid");
  metrics_->ObserveAuthFailure("revoked");
  metrics_->ObserveLimited("acme", "budget_day");
  metrics_->ObserveCacheLookup("acme", "miss");
  metrics_->ObserveCacheLookup("acme", "hit");
  metrics_->ObserveCacheLookup("acme", "hit");
  const std::string text = Render();
  EXPECT_EQ(SamplesOf(text, "switchyard_auth_failures_total"),
            (Lines{"switchyard_auth_failures_total{reason=\"invalid\"} 2",
                   "switchyard_auth_failures_total{reason=\"revoked\"} 1"}));
  EXPECT_EQ(SamplesOf(text, "switchyard_limited_total"),
            (Lines{"switchyard_limited_total{tenant=\"acme\",limit=\"budget_day\"} 1"}));
  EXPECT_EQ(SamplesOf(text, "switchyard_cache_lookups_total"),
            (Lines{"switchyard_cache_lookups_total{tenant=\"acme\",result=\"hit\"} 2",
                   "switchyard_cache_lookups_total{tenant=\"acme\",result=\"miss\"} 1"}));
}

TEST_F(GatewayMetricsTest, ScrapeTimeFiguresBreakersLedgerAndBudgets) {
  // Open flash/eu's breaker (5 failures in a row), then let flash/deepseek's cool off and probe.
  const routing::SteadyTime t0{std::chrono::hours(1)};
  const size_t eu = *health_->IndexOf("flash/eu");
  const size_t deepseek = *health_->IndexOf("flash/deepseek");
  for (size_t slot : {eu, deepseek}) {
    for (int i = 0; i < 5; ++i) {
      ASSERT_EQ(health_->Admit(slot, t0), routing::Admission::kAllow);
      health_->Begin(slot);
      health_->NoteFailure(slot, t0, std::chrono::milliseconds(10), false);
    }
  }
  ASSERT_EQ(health_->Admit(deepseek, t0 + std::chrono::minutes(1)), routing::Admission::kProbe);

  const LedgerStats ledger{.queued = 3,
                           .written = 120,
                           .lost = 2,
                           .write_errors = 1,
                           .access_log_dropped = 7,
                           .spilled_total = 40,
                           .spill_records = 25,
                           .spill_bytes = 9000,
                           .rejected = 1,
                           .batches = 6,
                           .rows_pruned = 500,
                           .prune_errors = 2,
                           .response_store = true,
                           .responses_swept = 11,
                           .response_sweep_failures = 1,
                           .shared_state_up = 0,
                           .shared_state_failures = 4};
  const std::vector<BudgetUse> budgets = {
      {"acme", "day", Money::FromPico(10'400'000'000), Money::FromPico(10'000'000'000)},
      {"acme", "month", Money::FromPico(1'200'000'000'000), Money::FromPico(100'000'000'000'000)},
  };
  const std::string text = Render(ledger, budgets);
  EXPECT_EQ(SamplesOf(text, "switchyard_breaker_state"),
            (Lines{"switchyard_breaker_state{model=\"flash\",deployment=\"deepseek\"} 1",
                   "switchyard_breaker_state{model=\"flash\",deployment=\"eu\"} 2",
                   "switchyard_breaker_state{model=\"gpt-5.5\",deployment=\"openai\"} 0"}));
  EXPECT_EQ(SamplesOf(text, "switchyard_budget_spent_usd"),
            (Lines{"switchyard_budget_spent_usd{tenant=\"acme\",window=\"day\"} 0.0104",
                   "switchyard_budget_spent_usd{tenant=\"acme\",window=\"month\"} 1.2"}));
  EXPECT_EQ(SamplesOf(text, "switchyard_budget_limit_usd"),
            (Lines{"switchyard_budget_limit_usd{tenant=\"acme\",window=\"day\"} 0.01",
                   "switchyard_budget_limit_usd{tenant=\"acme\",window=\"month\"} 100"}));
  EXPECT_EQ(
      SamplesOf(text, "switchyard_ledger"),
      (Lines{"switchyard_ledger_queue_depth 3", "switchyard_ledger_records_written_total 120",
             "switchyard_ledger_records_lost_total 2", "switchyard_ledger_records_spilled_total 40",
             "switchyard_ledger_records_rejected_total 1",
             "switchyard_ledger_batches_written_total 6", "switchyard_ledger_rows_pruned_total 500",
             "switchyard_ledger_prune_errors_total 2", "switchyard_ledger_spill_records 25",
             "switchyard_ledger_spill_bytes 9000", "switchyard_ledger_write_errors_total 1"}));
  EXPECT_EQ(SamplesOf(text, "switchyard_response_store_swept"),
            (Lines{"switchyard_response_store_swept_total 11"}));
  EXPECT_EQ(SamplesOf(text, "switchyard_response_store_sweep"),
            (Lines{"switchyard_response_store_sweep_failures_total 1"}));
  EXPECT_EQ(SamplesOf(text, "switchyard_access_log"),
            (Lines{"switchyard_access_log_dropped_total 7"}));
  EXPECT_EQ(SamplesOf(text, "switchyard_shared_state"),
            (Lines{"switchyard_shared_state_up 0", "switchyard_shared_state_failures_total 4"}));
  // Without shared_state.redis_url there is nothing to report.
  EXPECT_EQ(SamplesOf(Render(LedgerStats{}, budgets), "switchyard_shared_state"), Lines{});
  // Nor, without responses.store, of the stored responses' sweeps.
  EXPECT_EQ(SamplesOf(Render(LedgerStats{}, budgets), "switchyard_response_store_sw"), Lines{});
}

// Runs `promtool check metrics` (Debian package prometheus, installed by scripts/install-deps.sh)
// on `text`; returns its exit status and output. A missing promtool is exit 127: a failure.
std::pair<int, std::string> PromtoolCheck(const std::string& text) {
  const std::string path =
      ::testing::TempDir() + "gateway_metrics_" + std::to_string(::getpid()) + ".prom";
  std::ofstream(path) << text;
  const std::string command = "promtool check metrics < '" + path + "' 2>&1";
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return {-1, "popen failed"};
  std::string output;
  char buffer[512];
  size_t n = 0;
  while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) output.append(buffer, n);
  const int status = ::pclose(pipe);
  std::remove(path.c_str());
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, output};
}

// metrics.max_tenant_labels: 2. acme and beta come first and keep their series; gamma and delta
// share tenant="(other)". Of three tenants with budgets, the two nearest a limit are shown.
TEST_F(GatewayMetricsTest, LaterTenantsShareOneSeriesAndTheFullestBudgetsAreShown) {
  Build("metrics: {max_tenant_labels: 2}\n");
  GatewayMetrics& metrics = *metrics_;

  metrics.Observe(FailoverRecord(Money::FromPico(100)), microseconds(1));
  metrics.Observe(EscalatedRecord(), microseconds(1));
  ledger::Record gamma = FailoverRecord(Money::FromPico(7));
  gamma.tenant = "gamma";
  metrics.Observe(gamma, microseconds(1));
  metrics.Observe(FailoverRecord(Money::FromPico(20)), microseconds(1));  // acme again
  metrics.ObserveLimited("delta", "requests");
  metrics.ObserveCacheLookup("gamma", "hit");
  metrics.ObserveCacheLookup("beta", "hit");

  const std::vector<BudgetUse> budgets = {
      {"acme", "day", Money::FromPico(10), Money::FromPico(100)},       // 10%
      {"beta", "day", Money::FromPico(5), Money::FromPico(100)},        // 5%
      {"beta", "month", Money::FromPico(500), Money::FromPico(1'000)},  // 50%: beta's fullest
      {"gamma", "day", Money::FromPico(104), Money::FromPico(100)},     // 104%
  };
  const std::string text = Render({}, budgets);
  EXPECT_EQ(
      SamplesOf(text, "switchyard_cost_usd_total"),
      (Lines{"switchyard_cost_usd_total{model=\"flash\",provider=\"deepseek\",tenant=\"(other)\"} "
             "0.000000000007",
             "switchyard_cost_usd_total{model=\"flash\",provider=\"deepseek\",tenant=\"acme\"} "
             "0.00000000012",
             "switchyard_cost_usd_total{model=\"flash\",provider=\"deepseek\",tenant=\"beta\"} "
             "0.0000812",
             "switchyard_cost_usd_total{model=\"gpt-5.5\",provider=\"openai\",tenant=\"beta\"} "
             "0.0037"}));
  EXPECT_EQ(SamplesOf(text, "switchyard_limited_total"),
            (Lines{"switchyard_limited_total{tenant=\"(other)\",limit=\"requests\"} 1"}));
  EXPECT_EQ(SamplesOf(text, "switchyard_cache_lookups_total"),
            (Lines{"switchyard_cache_lookups_total{tenant=\"(other)\",result=\"hit\"} 1",
                   "switchyard_cache_lookups_total{tenant=\"beta\",result=\"hit\"} 1"}));
  EXPECT_EQ(SamplesOf(text, "switchyard_budget_spent_usd"),
            (Lines{"switchyard_budget_spent_usd{tenant=\"beta\",window=\"day\"} 0.000000000005",
                   "switchyard_budget_spent_usd{tenant=\"beta\",window=\"month\"} 0.0000000005",
                   "switchyard_budget_spent_usd{tenant=\"gamma\",window=\"day\"} 0.000000000104"}));
  EXPECT_EQ(SamplesOf(text, "switchyard_budget_tenants_omitted"),
            (Lines{"switchyard_budget_tenants_omitted 1"}));
  EXPECT_EQ(
      SamplesOf(text, "switchyard_metrics_tenant"),
      (Lines{"switchyard_metrics_tenant_labels 2", "switchyard_metrics_tenant_folded_total 3"}));
  const auto [status, output] = PromtoolCheck(text);
  EXPECT_EQ(status, 0) << output;
}

// A zero budget is full whatever was spent (the limiter refuses every request against it): it
// ranks before every window with a budget. Compared by cross products alone, 0 / 0 tied with
// every window, and by name "z" came last and was left out.
TEST_F(GatewayMetricsTest, AZeroBudgetRanksAsFull) {
  Build("metrics: {max_tenant_labels: 3}\n");
  const std::vector<BudgetUse> budgets = {
      {"c", "day", Money::FromPico(10), Money::FromPico(100)},   // 10%
      {"z", "day", Money::FromPico(0), Money::FromPico(0)},      // suspended
      {"e", "day", Money::FromPico(133), Money::FromPico(100)},  // over its limit
      {"y", "day", Money::FromPico(5), Money::FromPico(0)},      // suspended
      {"b", "day", Money::FromPico(14), Money::FromPico(100)},   // 14%
  };
  EXPECT_EQ(SamplesOf(Render({}, budgets), "switchyard_budget_limit_usd"),
            (Lines{"switchyard_budget_limit_usd{tenant=\"e\",window=\"day\"} 0.0000000001",
                   "switchyard_budget_limit_usd{tenant=\"y\",window=\"day\"} 0",
                   "switchyard_budget_limit_usd{tenant=\"z\",window=\"day\"} 0"}));
}

// Live-calibrated router rules: their threshold and share now, to the millionth; without one,
// neither family is shown.
TEST_F(GatewayMetricsTest, ScrapeTimeRouterCalibrations) {
  const std::vector<RouterCalibration> routers = {{"auto", "chat", 0.5741234, 0.2},
                                                  {"auto", "math", 1.0000000000000002, 0.0}};
  const std::string text = Render({}, {}, routers);
  EXPECT_EQ(SamplesOf(text, "switchyard_router"),
            (Lines{"switchyard_router_threshold{profile=\"auto\",rule=\"chat\"} 0.574123",
                   "switchyard_router_threshold{profile=\"auto\",rule=\"math\"} 1",
                   "switchyard_router_strong_share{profile=\"auto\",rule=\"chat\"} 0.2",
                   "switchyard_router_strong_share{profile=\"auto\",rule=\"math\"} 0"}));
  EXPECT_EQ(Render().find("switchyard_router_"), std::string::npos);
  EXPECT_EQ(PromtoolCheck(text).first, 0) << PromtoolCheck(text).second;
}

TEST_F(GatewayMetricsTest, PromtoolAcceptsTheExposition) {
  ObserveRun();
  metrics_->ObserveAuthFailure("missing");
  metrics_->ObserveLimited("beta", "requests");
  const std::string text =
      Render(LedgerStats{.queued = 1, .written = 9, .shared_state_up = 1},
             {{"acme", "day", Money::FromPico(1), Money::FromPico(10'000'000'000)}});
  const auto [status, output] = PromtoolCheck(text);
  EXPECT_EQ(status, 0) << "promtool check metrics (exit 127: promtool is missing; install the "
                          "Debian package prometheus, see scripts/install-deps.sh):\n"
                       << output << "\n--- exposition ---\n"
                       << text;
  EXPECT_EQ(output, "");
}

TEST_F(GatewayMetricsTest, PromtoolRejectsABrokenExposition) {
  // Proves the check above can fail: a counter without _total and a sample with a bad value.
  const auto [status, output] =
      PromtoolCheck("# HELP x_requests Requests.\n# TYPE x_requests counter\nx_requests abc\n");
  EXPECT_NE(status, 0) << output;
}

}  // namespace
}  // namespace sy::app
