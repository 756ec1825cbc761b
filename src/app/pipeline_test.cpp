// The pure stages: account (cost per attempt, the request's sum), the usage estimate, and the
// record filled from a context, table-style over hand-built contexts.
#include "app/pipeline.h"

#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

#include "limits/directory.h"
#include "limits/limiter.h"
#include "tests/testutil/memory_ledger_sink.h"
#include "tests/testutil/null_response_writer.h"

namespace sy::app {
namespace {

// A clock pinned at 12:00 UTC (the standard price lists apply) unless a test moves it.
class FixedClock final : public core::Clock {
 public:
  std::chrono::system_clock::time_point Now() const override { return now; }
  std::chrono::system_clock::time_point now =
      std::chrono::sys_days(std::chrono::year{2026} / 12 / 1) + std::chrono::hours(12);
};

// A directory of one key, key_a of tenant acme, with a daily budget.
std::shared_ptr<const limits::Directory> OneKey() {
  limits::Key key;
  key.id = "key_a";
  key.tenant = "acme";
  key.policy.budgets.usd_per_day = core::Money::FromPico(5'000'000'000'000);
  return limits::Directory::Build({key}, {limits::Tenant{"acme", {}, 0, {}}}, nullptr);
}

// What KeyService::SeedSpend would give the key for the UTC day of `now_ms` if the gateway
// started then with `r` as the ledger's only request: its cost when it started that day.
core::Money SeededToday(const ledger::Record& r, int64_t now_ms) {
  const int64_t today = limits::PeriodStartMs(limits::Period::kDay,
                                              limits::PeriodIndex(limits::Period::kDay, now_ms));
  return r.started_at_ms >= today ? r.cost : core::Money();
}

core::Usage Tokens(int64_t input, int64_t output) {
  core::Usage u;
  u.reported = true;
  u.input_tokens = input;
  u.output_tokens = output;
  return u;
}

class PipelineTest : public ::testing::Test {
 protected:
  PipelineTest() : ctx_(http_, writer_, services_) {
    flash_.id = "deepseek-v4-flash";
    flash_.provider = "deepseek";
    flash_.price.standard.input = core::PricePerMTokens::FromMicro(140'000);   // 0.14
    flash_.price.standard.output = core::PricePerMTokens::FromMicro(280'000);  // 0.28
    gpt_.id = "gpt-5.5";
    gpt_.provider = "openai";
    gpt_.price.standard.input = core::PricePerMTokens::FromMicro(5'000'000);    // 5.00
    gpt_.price.standard.output = core::PricePerMTokens::FromMicro(30'000'000);  // 30.00
    ctx_.request.received_at = clock_.Now();
    ctx_.request.id = "req_1";
  }

  failover::Attempt& Add(const config::ModelConfig& model, failover::Outcome outcome,
                         std::optional<core::Usage> usage = std::nullopt) {
    failover::Attempt a{&model, outcome};
    a.usage = usage;
    if (outcome != failover::Outcome::kOk)
      a.error = core::MakeError(core::Errc::kUpstreamUnavailable, "x");
    ctx_.attempts.push_back(a);
    return ctx_.attempts.back();
  }

  ledger::Record Recorded() {
    Record(ctx_);
    auto records = sink_.Records();
    EXPECT_EQ(records.size(), 1u);
    return records.empty() ? ledger::Record{} : records.back();
  }

  std::shared_ptr<const catalog::Catalog> catalog_ =
      *catalog::Catalog::Build(std::make_shared<const config::Config>());
  ProviderSet providers_{{}};
  routing::Health health_ = routing::HealthFor(*catalog_);
  testutil::MemoryLedgerSink sink_;
  FixedClock clock_;
  core::SecretScrubber secrets_{{"sk-test-secret-key"}};
  routing::Policy policy_ = *routing::Policy::Build(*catalog_);
  Services services_{*catalog_, policy_, providers_, health_, sink_, clock_, secrets_};
  http::ServerRequest http_;
  testutil::NullResponseWriter writer_;
  RequestContext ctx_;
  config::ModelConfig flash_, gpt_;
};

TEST_F(PipelineTest, AccountPricesEveryBilledAttemptAndTheRequestCostsTheirSum) {
  // An answer that could not be translated was billed, then gpt-5.5 answered.
  Add(flash_, failover::Outcome::kFailed, Tokens(1'000, 500));
  Add(gpt_, failover::Outcome::kSkipped);
  Add(gpt_, failover::Outcome::kOk, Tokens(1'000, 200));
  Account(ctx_);
  // 1000 x 0.14/M + 500 x 0.28/M = 0.00014 + 0.00014
  EXPECT_EQ(ctx_.attempts[0].cost->total.ToString(), "0.00028");
  EXPECT_FALSE(ctx_.attempts[1].cost.has_value());
  // 1000 x 5/M + 200 x 30/M = 0.005 + 0.006
  EXPECT_EQ(ctx_.attempts[2].cost->total.ToString(), "0.011");
  EXPECT_EQ(RequestCost(ctx_)->ToString(), "0.01128");
}

TEST_F(PipelineTest, NoBilledAttemptMeansNoCost) {
  Add(flash_, failover::Outcome::kFailed);
  Account(ctx_);
  EXPECT_FALSE(RequestCost(ctx_).has_value());
}

TEST_F(PipelineTest, EstimateUsage) {
  struct Case {
    size_t prompt_bytes, deltas, bytes;
    int64_t input, output;
  } cases[] = {
      {0, 0, 0, 0, 0},     {1, 0, 0, 1, 0},    {400, 0, 0, 100, 0},
      {401, 0, 0, 101, 0}, {0, 18, 40, 0, 18},  // one delta per token beats 40/4
      {0, 3, 400, 0, 100},                      // long deltas: a quarter of the bytes
  };
  for (const auto& c : cases) {
    const auto u = EstimateUsage(c.prompt_bytes, c.deltas, c.bytes);
    EXPECT_EQ(u.input_tokens, c.input) << c.prompt_bytes;
    EXPECT_EQ(u.output_tokens, c.output) << c.deltas << " " << c.bytes;
    EXPECT_TRUE(u.estimated);
    EXPECT_FALSE(u.reported);
  }
}

TEST_F(PipelineTest, AnAnswerWithoutUsageIsEstimatedFromWhatItGenerated) {
  core::Usage reported;
  reported.reported = true;
  reported.input_tokens = 7;
  reported.output_tokens = 3;
  const auto chat = boost::json::parse(
      R"({"choices":[{"message":{"role":"assistant","content":"twelve bytes","tool_calls":[)"
      R"({"type":"function","function":{"name":"f","arguments":"{\"a\":1}"}}]},)"
      R"("finish_reason":"tool_calls"}]})");
  const struct {
    const char* name;
    const boost::json::value answer;
    core::Usage usage;
    int64_t input, output;
    bool estimated;
  } cases[] = {
      {"reported: as reported", chat, reported, 7, 3, false},
      // 400 bytes sent: 100 tokens; 12 bytes of text and 7 of arguments: ceil(19 / 4) = 5.
      {"none: estimated", chat, core::Usage{}, 100, 5, true},
      {"none, and not an answer: the prompt only", boost::json::parse(R"({"x":1})"), core::Usage{},
       100, 0, true},
  };
  for (const auto& c : cases) {
    const core::Usage u = AnswerUsage(core::Dialect::kOpenAiChat, c.answer, c.usage, 400);
    EXPECT_EQ(u.input_tokens, c.input) << c.name;
    EXPECT_EQ(u.output_tokens, c.output) << c.name;
    EXPECT_EQ(u.estimated, c.estimated) << c.name;
  }
}

TEST_F(PipelineTest, TheRecordIsFilledFromTheContextWithEveryAttempt) {
  Add(flash_, failover::Outcome::kFailed, Tokens(1'000, 500));
  auto& skipped = Add(gpt_, failover::Outcome::kSkipped);
  skipped.error = core::MakeError(core::Errc::kRateLimited, "skipped: cooling down");
  Add(gpt_, failover::Outcome::kOk, Tokens(1'000, 200));
  ctx_.model = &gpt_;
  ctx_.outcome.status = 200;
  ctx_.request.model = "economy";
  Account(ctx_);
  const auto r = Recorded();
  EXPECT_EQ(r.request_id, "req_1");
  EXPECT_EQ(r.chosen_model, "gpt-5.5");
  EXPECT_EQ(r.provider, "openai");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.cost.ToString(), "0.01128");
  EXPECT_EQ(r.usage.input_tokens, 2'000);
  EXPECT_EQ(r.usage.output_tokens, 700);
  EXPECT_EQ(r.price_list, "standard");
  ASSERT_EQ(r.attempts.size(), 3u);
  EXPECT_EQ(r.attempts[0].outcome, "failed");
  EXPECT_EQ(r.attempts[0].error_code, "upstream_unavailable");
  EXPECT_EQ(r.attempts[0].cost.ToString(), "0.00028");
  EXPECT_EQ(r.attempts[1].outcome, "skipped");
  EXPECT_EQ(r.attempts[1].error_code, "skipped");
  EXPECT_EQ(r.attempts[2].outcome, "ok");
  EXPECT_EQ(r.attempts[2].http_status, 200);
  EXPECT_EQ(r.attempts[2].usage.output_tokens, 200);
  EXPECT_EQ(r.started_at_ms, 1'796'126'400'000);  // 2026-12-01T12:00:00Z, the pinned clock
}

// Regression: the budget was charged at the instant the request settled, the ledger (and so the
// seed at the next start) counts it at the instant it was received. A request received at
// 23:59:59.9 and settled after midnight was charged to the new day, which a restart then
// seeded without it.
TEST_F(PipelineTest, ARequestSpanningMidnightIsChargedToTheDayTheSeedCountsItIn) {
  const auto midnight = std::chrono::sys_days(std::chrono::year{2026} / 12 / 2);
  ctx_.request.received_at = midnight - std::chrono::milliseconds(100);
  clock_.now = midnight + std::chrono::milliseconds(500);
  const auto dir = OneKey();
  ctx_.caller.emplace();
  ctx_.caller->directory = dir;
  ctx_.caller->key = &dir->keys().front();
  Add(flash_, failover::Outcome::kOk, Tokens(1'000, 500));
  ctx_.outcome.status = 200;
  Account(ctx_);
  const auto r = Recorded();
  ASSERT_EQ(r.cost.ToString(), "0.00028");
  // Just before midnight, and when the request ended: what a start then would seed.
  for (const int64_t now_ms : {core::UnixMs(midnight) - 1, core::UnixMs(clock_.now)}) {
    limits::Account& key = *dir->keys().front().account;
    limits::Account& tenant = *dir->keys().front().owner->account;
    const std::string seeded = SeededToday(r, now_ms).ToString();
    EXPECT_EQ(limits::CurrentSpend(key, now_ms).day.ToString(), seeded) << now_ms;
    EXPECT_EQ(limits::CurrentSpend(tenant, now_ms).day.ToString(), seeded) << now_ms;
  }
}

TEST_F(PipelineTest, ARecordHasASizeBoundWhateverTheClientSent) {
  // Regression: an 8 MiB model name landed twice in its ledger row.
  ctx_.request.model = std::string(8 * 1024 * 1024, 'm');
  http_.target = "/" + std::string(15'000, 'p');
  ctx_.outcome.error_message = std::string(1 << 20, 'e');
  Add(flash_, failover::Outcome::kFailed).error.message = std::string(1 << 20, 'u');
  const auto r = Recorded();
  const size_t bound = ledger::kMaxFieldBytes + 32;
  EXPECT_LE(r.requested_model.size(), bound);
  EXPECT_LE(r.endpoint.size(), bound);
  EXPECT_LE(r.error_message.size(), bound);
  EXPECT_LE(r.attempts[0].error_message.size(), bound);
  EXPECT_NE(r.requested_model.find("[cut, 8388608 bytes]"), std::string::npos);
}

TEST_F(PipelineTest, NoConfiguredSecretReachesTheLedger) {
  // Regression: upstream error text echoing a key was stored as is.
  Add(flash_, failover::Outcome::kFailed).error.message =
      "provider deepseek answered 400: bad key sk-test-secret-key";
  ctx_.outcome.error_message = "every model failed. Last error: sk-test-secret-key";
  const auto r = Recorded();
  EXPECT_EQ(r.attempts[0].error_message, "provider deepseek answered 400: bad key [redacted]");
  EXPECT_EQ(r.error_message, "every model failed. Last error: [redacted]");
}

}  // namespace
}  // namespace sy::app
