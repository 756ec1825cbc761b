#include "failover/chain.h"

#include <map>

#include <gtest/gtest.h>

#include "tests/testutil/run_task.h"

namespace sy::failover {
namespace {

using std::chrono::milliseconds;

config::ModelConfig Model(std::string id) {
  config::ModelConfig m;
  m.id = std::move(id);
  m.provider = "p";
  return m;
}

core::Error Failure(core::Errc code, int status = 0,
                    std::optional<milliseconds> retry_after = std::nullopt) {
  auto e = core::MakeError(code, "failed");
  e.upstream_status = status;
  e.retry_after = retry_after;
  return e;
}

// Scripted outcomes per model id, consumed in order; an exhausted script succeeds.
struct Script {
  std::map<std::string, std::vector<core::Error>> failures;
  std::vector<std::string> calls;
  std::map<std::string, core::Usage> billed;  // usage an attempt on the model reports

  AttemptFn<std::string> Fn() {
    return [this](const config::ModelConfig& m,
                  Attempt& attempt) -> http::Task<core::Result<std::string>> {
      if (auto it = billed.find(m.id); it != billed.end()) attempt.usage = it->second;
      calls.push_back(m.id);
      auto& queue = failures[m.id];
      if (queue.empty()) co_return "answer from " + m.id;
      auto e = queue.front();
      queue.erase(queue.begin());
      co_return e;
    };
  }
};

class ChainTest : public ::testing::Test {
 protected:
  ChainOutcome<std::string> Run(const std::vector<const config::ModelConfig*>& candidates,
                                ChainOptions options = Defaults()) {
    return testutil::RunTask(
        RunChain<std::string>(candidates, options, health_, attempts_, script_.Fn()));
  }
  static ChainOptions Defaults() {
    ChainOptions o;
    o.deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    o.max_attempts = 4;
    o.max_retry_after = milliseconds(200);
    return o;
  }

  config::ModelConfig a_ = Model("a"), b_ = Model("b"), c_ = Model("c");
  Script script_;
  Health health_{{"a", "b", "c"}, std::chrono::seconds(60)};
  std::vector<Attempt> attempts_;
};

TEST_F(ChainTest, FirstSuccessEndsTheChain) {
  auto out = Run({&a_, &b_});
  ASSERT_TRUE(out.result.has_value());
  EXPECT_EQ(*out.result, "answer from a");
  EXPECT_EQ(out.model, &a_);
  EXPECT_EQ(script_.calls, std::vector<std::string>{"a"});
}

TEST_F(ChainTest, RetryableFailuresMoveDownTheList) {
  script_.failures["a"] = {Failure(core::Errc::kRateLimited, 429)};
  script_.failures["b"] = {Failure(core::Errc::kUpstreamUnavailable, 503)};
  auto out = Run({&a_, &b_, &c_});
  ASSERT_TRUE(out.result.has_value());
  EXPECT_EQ(out.model, &c_);
  ASSERT_EQ(attempts_.size(), 3u);
  EXPECT_EQ(attempts_[0].outcome, Outcome::kFailed);
  EXPECT_EQ(attempts_[1].error.upstream_status, 503);
  EXPECT_EQ(attempts_[2].outcome, Outcome::kOk);
}

TEST_F(ChainTest, ANonRetryableFailureStopsAtOnce) {
  script_.failures["a"] = {Failure(core::Errc::kUpstreamRejected, 400)};
  auto out = Run({&a_, &b_});
  ASSERT_FALSE(out.result.has_value());
  EXPECT_EQ(out.result.error().upstream_status, 400);
  EXPECT_EQ(script_.calls, std::vector<std::string>{"a"});
}

TEST_F(ChainTest, ExhaustedChainListsEveryModelTried) {
  script_.failures["a"] = {Failure(core::Errc::kUpstreamTimeout)};
  script_.failures["b"] = {Failure(core::Errc::kUpstreamUnavailable, 500)};
  auto out = Run({&a_, &b_});
  ASSERT_FALSE(out.result.has_value());
  EXPECT_EQ(out.result.error().code, core::Errc::kUpstreamUnavailable);
  EXPECT_NE(out.result.error().message.find("a (upstream_timeout), b (upstream_unavailable)"),
            std::string::npos)
      << out.result.error().message;
}

TEST_F(ChainTest, TheLastCandidateIsRetriedAfterItsRetryAfter) {
  script_.failures["a"] = {Failure(core::Errc::kRateLimited, 429, milliseconds(20))};
  const auto start = std::chrono::steady_clock::now();
  auto out = Run({&a_});
  ASSERT_TRUE(out.result.has_value());
  EXPECT_EQ(script_.calls, (std::vector<std::string>{"a", "a"}));
  EXPECT_GE(std::chrono::steady_clock::now() - start, milliseconds(20));
}

TEST_F(ChainTest, ARetryAfterBeyondTheLimitIsNotWaitedFor) {
  script_.failures["a"] = {Failure(core::Errc::kRateLimited, 429, std::chrono::seconds(60))};
  auto out = Run({&a_});
  ASSERT_FALSE(out.result.has_value());
  EXPECT_EQ(out.result.error().code, core::Errc::kRateLimited);
  EXPECT_EQ(script_.calls, std::vector<std::string>{"a"});
}

TEST_F(ChainTest, CoolingModelsAreSkippedWhileOthersRemain) {
  health_.NoteRetryAfter(*health_.IndexOf("a"), std::chrono::steady_clock::now(),
                         std::chrono::seconds(30));
  auto out = Run({&a_, &b_});
  ASSERT_TRUE(out.result.has_value());
  EXPECT_EQ(out.model, &b_);
  EXPECT_EQ(script_.calls, std::vector<std::string>{"b"});
  ASSERT_EQ(attempts_.size(), 2u);
  EXPECT_EQ(attempts_[0].outcome, Outcome::kSkipped);
  // The skip says how long the model still cools.
  ASSERT_TRUE(attempts_[0].error.retry_after.has_value());
  EXPECT_GT(*attempts_[0].error.retry_after, std::chrono::seconds(29));
  EXPECT_LE(*attempts_[0].error.retry_after, std::chrono::seconds(30));
}

TEST_F(ChainTest, WhenEveryModelIsCoolingTheErrorCarriesTheShortestTimeLeft) {
  const auto now = std::chrono::steady_clock::now();
  health_.NoteRetryAfter(*health_.IndexOf("a"), now, std::chrono::seconds(40));
  health_.NoteRetryAfter(*health_.IndexOf("b"), now, std::chrono::seconds(20));
  auto out = Run({&a_, &b_});
  ASSERT_FALSE(out.result.has_value());
  EXPECT_EQ(out.result.error().code, core::Errc::kRateLimited);
  ASSERT_TRUE(out.result.error().retry_after.has_value());
  EXPECT_GT(*out.result.error().retry_after, std::chrono::seconds(19));
  EXPECT_LE(*out.result.error().retry_after, std::chrono::seconds(20));
  EXPECT_TRUE(script_.calls.empty());
}

TEST_F(ChainTest, AHugeRetryAfterCoolsOnlyForTheCap) {
  // Regression: retry-after: 100000000 took a model out for three years.
  Health health({"a"}, std::chrono::seconds(60));
  const auto now = std::chrono::steady_clock::now();
  health.NoteRetryAfter(*health.IndexOf("a"), now, std::chrono::hours(24 * 365 * 3));
  auto until = health.CooldownUntil(*health.IndexOf("a"), now);
  ASSERT_TRUE(until.has_value());
  EXPECT_EQ(*until - now, std::chrono::seconds(60));
  EXPECT_FALSE(
      health.CooldownUntil(*health.IndexOf("a"), now + std::chrono::seconds(61)).has_value());
}

TEST_F(ChainTest, ALongerCooldownIsNotShortenedByALaterShortOne) {
  const auto now = std::chrono::steady_clock::now();
  health_.NoteRetryAfter(*health_.IndexOf("a"), now, std::chrono::seconds(30));
  health_.NoteRetryAfter(*health_.IndexOf("a"), now, std::chrono::seconds(1));
  EXPECT_EQ(*health_.CooldownUntil(*health_.IndexOf("a"), now) - now, std::chrono::seconds(30));
  EXPECT_FALSE(health_.IndexOf("unknown-model").has_value());
}

TEST_F(ChainTest, NoAttemptStartsOnceStopped) {
  script_.failures["a"] = {Failure(core::Errc::kUpstreamTimeout)};
  auto options = Defaults();
  options.stopped = [this] { return !script_.calls.empty(); };
  auto out = Run({&a_, &b_}, options);
  ASSERT_FALSE(out.result.has_value());
  EXPECT_EQ(script_.calls, std::vector<std::string>{"a"});
}

TEST_F(ChainTest, AFailedAttemptKeepsWhatTheUpstreamBilled) {
  script_.failures["a"] = {Failure(core::Errc::kUpstreamUnavailable, 0)};
  core::Usage usage;
  usage.reported = true;
  usage.input_tokens = 10;
  usage.output_tokens = 7;
  script_.billed["a"] = usage;
  auto out = Run({&a_, &b_});
  ASSERT_TRUE(out.result.has_value());
  ASSERT_EQ(attempts_.size(), 2u);
  ASSERT_TRUE(attempts_[0].usage.has_value());
  EXPECT_EQ(attempts_[0].usage->output_tokens, 7);
  EXPECT_FALSE(attempts_[1].usage.has_value());
}

TEST_F(ChainTest, MaxAttemptsBoundsTheChain) {
  for (auto* id : {"a", "b", "c"}) script_.failures[id] = {Failure(core::Errc::kUpstreamTimeout)};
  auto options = Defaults();
  options.max_attempts = 2;
  auto out = Run({&a_, &b_, &c_}, options);
  ASSERT_FALSE(out.result.has_value());
  EXPECT_EQ(script_.calls, (std::vector<std::string>{"a", "b"}));
}

TEST_F(ChainTest, NothingStartsAfterTheDeadline) {
  auto options = Defaults();
  options.deadline = std::chrono::steady_clock::now() - milliseconds(1);
  auto out = Run({&a_}, options);
  ASSERT_FALSE(out.result.has_value());
  EXPECT_EQ(out.result.error().code, core::Errc::kUpstreamTimeout);
  EXPECT_TRUE(script_.calls.empty());
}

TEST(IsRetryable, DecidesByCodeAndUpstreamStatus) {
  EXPECT_TRUE(IsRetryable(Failure(core::Errc::kRateLimited, 429)));
  EXPECT_TRUE(IsRetryable(Failure(core::Errc::kUpstreamTimeout)));
  EXPECT_TRUE(IsRetryable(Failure(core::Errc::kUpstreamUnavailable, 529)));
  EXPECT_TRUE(IsRetryable(Failure(core::Errc::kUpstreamRejected, 401)));
  EXPECT_TRUE(IsRetryable(Failure(core::Errc::kUpstreamRejected, 404)));
  EXPECT_FALSE(IsRetryable(Failure(core::Errc::kUpstreamRejected, 400)));
  EXPECT_FALSE(IsRetryable(Failure(core::Errc::kInvalidRequest)));
}

}  // namespace
}  // namespace sy::failover
