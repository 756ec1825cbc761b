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

// Scripted outcomes per deployment key, consumed in order; an exhausted script succeeds.
struct Script {
  std::map<std::string, std::vector<core::Error>> failures;
  std::vector<std::string> calls;
  std::map<std::string, core::Usage> billed;  // usage an attempt on the deployment reports

  AttemptFn<std::string> Fn() {
    return [this](const catalog::Deployment& d,
                  Attempt& attempt) -> http::Task<core::Result<std::string>> {
      if (auto it = billed.find(d.key); it != billed.end()) attempt.usage = it->second;
      calls.push_back(d.key);
      auto& queue = failures[d.key];
      if (queue.empty()) co_return "answer from " + d.key;
      auto e = queue.front();
      queue.erase(queue.begin());
      co_return e;
    };
  }
};

// Models a, b and c with one deployment each (keys "a", "b", "c": slots 0-2), and model m with
// two, "m/x" (weight 3) and "m/y" (slots 3-4).
class ChainTest : public ::testing::Test {
 protected:
  ChainTest() {
    provider_.name = "p";
    for (auto* name : {"x", "y"}) {
      config::DeploymentConfig d;
      d.name = name;
      d.provider = "p";
      d.weight = std::string_view(name) == "x" ? 3 : 1;
      m_.deployments.push_back(d);
    }
    implied_.provider = "p";
    size_t slot = 0;
    for (auto* model : {&a_, &b_, &c_}) {
      deployments_.push_back({model, &implied_, &provider_, &model->price, slot++, model->id});
    }
    for (const auto& d : m_.deployments) {
      deployments_.push_back({&m_, &d, &provider_, &m_.price, slot++, "m/" + d.name});
    }
  }

  Step StepOf(const config::ModelConfig* model) {
    Step step{model, {}, routing::Strategy::kWeighted};
    for (const auto& d : deployments_) {
      if (d.model == model) step.deployments.push_back(&d);
    }
    return step;
  }

  ChainOutcome<std::string> Run(const std::vector<const config::ModelConfig*>& models,
                                ChainOptions options = Defaults()) {
    std::vector<Step> steps;
    for (const auto* model : models) steps.push_back(StepOf(model));
    return testutil::RunTask(
        RunChain<std::string>(steps, options, health_, attempts_, script_.Fn()));
  }
  static ChainOptions Defaults() {
    ChainOptions o;
    o.deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    o.max_attempts = 4;
    o.max_retry_after = milliseconds(200);
    o.backoff_base = milliseconds(1);
    o.backoff_max = milliseconds(4);
    o.random = [] { return uint64_t{0}; };  // weighted order: the heaviest first
    return o;
  }
  static routing::BreakerConfig Breaker() {
    routing::BreakerConfig b;
    b.consecutive_failures = 2;
    b.cool_off = std::chrono::seconds(30);
    return b;
  }

  config::ProviderConfig provider_;
  config::DeploymentConfig implied_;
  config::ModelConfig a_ = Model("a"), b_ = Model("b"), c_ = Model("c"), m_ = Model("m");
  std::vector<catalog::Deployment> deployments_;
  Script script_;
  Health health_{{"a", "b", "c", "m/x", "m/y"},
                 Breaker(),
                 std::chrono::seconds(60),
                 std::chrono::seconds(120)};
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

TEST_F(ChainTest, AdmitRefusalEndsTheChainBeforeTheCall) {
  script_.failures["a"] = {Failure(core::Errc::kUpstreamUnavailable, 503)};
  auto options = Defaults();
  std::vector<std::string> asked;
  options.admit = [&](const catalog::Deployment& d) -> core::Status {
    asked.push_back(d.key);
    if (d.key == "b") return core::MakeError(core::Errc::kBudgetExceeded, "over budget");
    return {};
  };
  auto out = Run({&a_, &b_, &c_}, options);
  ASSERT_FALSE(out.result.has_value());
  EXPECT_EQ(out.result.error().code, core::Errc::kBudgetExceeded);
  EXPECT_EQ(asked, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(script_.calls, std::vector<std::string>{"a"});
  EXPECT_EQ(attempts_.size(), 1u);  // the refused call left no attempt
}

// What the prepare hook refuses (a request its API cannot express) is skipped and recorded; it
// is asked only for the deployments the chain reaches, before admission.
TEST_F(ChainTest, APreparedRefusalSkipsTheDeploymentAndTheChainGoesOn) {
  auto options = Defaults();
  std::vector<std::string> prepared;
  std::vector<std::string> admitted;
  options.prepare = [&](const catalog::Deployment& d) -> core::Status {
    prepared.push_back(d.key);
    if (d.key == "m/x") return core::MakeError(core::Errc::kInvalidRequest, "cannot express");
    return {};
  };
  options.admit = [&](const catalog::Deployment& d) -> core::Status {
    admitted.push_back(d.key);
    return {};
  };
  auto out = Run({&m_, &a_, &b_}, options);
  ASSERT_TRUE(out.result.has_value());
  EXPECT_EQ(out.deployment->key, "m/y");
  EXPECT_EQ(prepared, (std::vector<std::string>{"m/x", "m/y"}));  // a and b never reached
  EXPECT_EQ(admitted, std::vector<std::string>{"m/y"});
  ASSERT_EQ(attempts_.size(), 2u);
  EXPECT_EQ(attempts_[0].outcome, Outcome::kSkipped);
  EXPECT_EQ(attempts_[0].deployment->key, "m/x");
  EXPECT_EQ(attempts_[0].error.message, "cannot express");
  EXPECT_EQ(attempts_[1].outcome, Outcome::kOk);
}

TEST_F(ChainTest, WhenEveryDeploymentIsRefusedTheFirstRefusalIsTheAnswer) {
  auto options = Defaults();
  options.prepare = [](const catalog::Deployment& d) -> core::Status {
    return core::MakeError(core::Errc::kInvalidRequest, "cannot express on " + d.key);
  };
  auto out = Run({&a_, &b_}, options);
  ASSERT_FALSE(out.result.has_value());
  EXPECT_EQ(out.result.error().code, core::Errc::kInvalidRequest);
  EXPECT_EQ(out.result.error().message, "cannot express on a");
  EXPECT_TRUE(script_.calls.empty());
  EXPECT_EQ(attempts_.size(), 2u);
}

// A refusal among real failures is one more skipped attempt: the upstreams' failure is the answer.
TEST_F(ChainTest, ARefusalAmongFailuresLeavesTheFailureAsTheAnswer) {
  script_.failures["b"] = {Failure(core::Errc::kUpstreamUnavailable, 503)};
  auto options = Defaults();
  options.prepare = [](const catalog::Deployment& d) -> core::Status {
    if (d.key == "a") return core::MakeError(core::Errc::kInvalidRequest, "cannot express");
    return {};
  };
  auto out = Run({&a_, &b_}, options);
  ASSERT_FALSE(out.result.has_value());
  EXPECT_EQ(out.result.error().upstream_status, 503);
  EXPECT_EQ(script_.calls, std::vector<std::string>{"b"});
}

// A model whose only successors are refused is the last one that can be tried: it is retried
// after its retry-after, as the last model of a chain is.
TEST_F(ChainTest, BeforeRefusedModelsAModelIsTheLastAndIsRetriedAfterItsRetryAfter) {
  script_.failures["a"] = {Failure(core::Errc::kRateLimited, 429, milliseconds(20))};
  auto options = Defaults();
  options.prepare = [](const catalog::Deployment& d) -> core::Status {
    if (d.key != "a") return core::MakeError(core::Errc::kInvalidRequest, "cannot express");
    return {};
  };
  auto out = Run({&a_, &b_, &m_}, options);
  ASSERT_TRUE(out.result.has_value()) << out.result.error().message;
  EXPECT_EQ(script_.calls, (std::vector<std::string>{"a", "a"}));
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
  health_.NoteRetryAfter(0, std::chrono::steady_clock::now(), std::chrono::seconds(30));
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
  health_.NoteRetryAfter(0, now, std::chrono::seconds(40));
  health_.NoteRetryAfter(1, now, std::chrono::seconds(20));
  auto out = Run({&a_, &b_});
  ASSERT_FALSE(out.result.has_value());
  EXPECT_EQ(out.result.error().code, core::Errc::kRateLimited);
  ASSERT_TRUE(out.result.error().retry_after.has_value());
  EXPECT_GT(*out.result.error().retry_after, std::chrono::seconds(19));
  EXPECT_LE(*out.result.error().retry_after, std::chrono::seconds(20));
  EXPECT_TRUE(script_.calls.empty());
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

TEST_F(ChainTest, AFailedDeploymentFailsOverToTheModelsOtherDeployment) {
  script_.failures["m/x"] = {Failure(core::Errc::kUpstreamUnavailable, 503)};
  auto out = Run({&m_, &a_});
  ASSERT_TRUE(out.result.has_value());
  EXPECT_EQ(out.model, &m_);
  ASSERT_NE(out.deployment, nullptr);
  EXPECT_EQ(out.deployment->key, "m/y");
  EXPECT_EQ(script_.calls, (std::vector<std::string>{"m/x", "m/y"}));
  ASSERT_EQ(attempts_.size(), 2u);
  EXPECT_EQ(attempts_[0].deployment->key, "m/x");
  EXPECT_EQ(attempts_[0].outcome, Outcome::kFailed);
}

TEST_F(ChainTest, ARejectedAnswerMovesToTheNextModelNotTheNextDeployment) {
  script_.failures["m/x"] = {Failure(core::Errc::kVerificationFailed)};
  auto out = Run({&m_, &a_});
  ASSERT_TRUE(out.result.has_value());
  EXPECT_EQ(out.model, &a_);
  EXPECT_EQ(script_.calls, (std::vector<std::string>{"m/x", "a"}));
  EXPECT_EQ(attempts_[0].outcome, Outcome::kRejected);
  // A rejection says nothing against the deployment's health.
  EXPECT_EQ(health_.Read(3, std::chrono::steady_clock::now()).consecutive_failures, 0);
}

TEST_F(ChainTest, WhenEveryAnswerIsRejectedTheErrorNamesTheLastCheck) {
  auto rejected =
      core::MakeError(core::Errc::kVerificationFailed, "json_schema: /age: expected integer");
  script_.failures["a"] = {rejected};
  script_.failures["b"] = {rejected};
  auto out = Run({&a_, &b_});
  ASSERT_FALSE(out.result.has_value());
  EXPECT_EQ(out.result.error().code, core::Errc::kVerificationFailed);
  EXPECT_EQ(out.result.error().message,
            "every candidate failed verification; last: json_schema: /age: expected integer; "
            "tried: a (rejected), b (rejected)");
}

TEST_F(ChainTest, RetriesInPlaceAfterA5xxUpToTheLimit) {
  script_.failures["a"] = {Failure(core::Errc::kUpstreamUnavailable, 503),
                           Failure(core::Errc::kUpstreamUnavailable, 503)};
  auto options = Defaults();
  options.retries_per_deployment = 1;
  auto out = Run({&a_, &b_}, options);
  ASSERT_TRUE(out.result.has_value());
  // One retry on a, then b.
  EXPECT_EQ(script_.calls, (std::vector<std::string>{"a", "a", "b"}));
}

TEST_F(ChainTest, ABreakerThatOpensStopsTheRetriesInPlace) {
  // Breaker(): two failures in a row open it, so the third try on a is not sent.
  script_.failures["a"] = {Failure(core::Errc::kUpstreamUnavailable, 503),
                           Failure(core::Errc::kUpstreamUnavailable, 503)};
  auto options = Defaults();
  options.retries_per_deployment = 2;
  auto out = Run({&a_, &b_}, options);
  ASSERT_TRUE(out.result.has_value());
  EXPECT_EQ(script_.calls, (std::vector<std::string>{"a", "a", "b"}));
  ASSERT_EQ(attempts_.size(), 4u);
  EXPECT_EQ(attempts_[2].outcome, Outcome::kSkipped);
  EXPECT_EQ(attempts_[2].error.message.rfind("skipped: circuit open for deployment a", 0), 0u);
}

TEST_F(ChainTest, ATimeoutIsNotRetriedInPlace) {
  script_.failures["a"] = {Failure(core::Errc::kUpstreamTimeout)};
  auto options = Defaults();
  options.retries_per_deployment = 3;
  auto out = Run({&a_, &b_}, options);
  EXPECT_EQ(script_.calls, (std::vector<std::string>{"a", "b"}));
}

TEST_F(ChainTest, AnOpenBreakerIsSkippedAndRecorded) {
  const auto now = std::chrono::steady_clock::now();
  for (int i = 0; i < 2; ++i) {  // Breaker(): two failures in a row open it
    health_.Begin(3);
    health_.NoteFailure(3, now, std::chrono::microseconds(1000), false);
  }
  auto out = Run({&m_});
  ASSERT_TRUE(out.result.has_value());
  EXPECT_EQ(out.deployment->key, "m/y");
  EXPECT_EQ(script_.calls, std::vector<std::string>{"m/y"});
  ASSERT_EQ(attempts_.size(), 2u);
  EXPECT_EQ(attempts_[0].outcome, Outcome::kSkipped);
  EXPECT_EQ(attempts_[0].error.message.rfind("skipped: circuit open for deployment m/x", 0), 0u)
      << attempts_[0].error.message;
}

TEST_F(ChainTest, ServerErrorsOpenTheBreakerForLaterRequests) {
  script_.failures["a"] = {Failure(core::Errc::kUpstreamUnavailable, 500),
                           Failure(core::Errc::kUpstreamUnavailable, 500)};
  Run({&a_, &b_});
  Run({&a_, &b_});
  EXPECT_EQ(health_.Read(0, std::chrono::steady_clock::now()).state, routing::BreakerState::kOpen);
  script_.calls.clear();
  Run({&a_, &b_});
  EXPECT_EQ(script_.calls, std::vector<std::string>{"b"});  // a is not called while open
}

TEST(Backoff, FullJitterUnderAnExponentialCeiling) {
  using std::chrono::milliseconds;
  const milliseconds base(100), max(2'000);
  EXPECT_EQ(Backoff(1, base, max, 0), milliseconds(0));
  EXPECT_EQ(Backoff(1, base, max, 100), milliseconds(100));  // ceiling 100: 100 % 101
  EXPECT_EQ(Backoff(1, base, max, 101), milliseconds(0));
  EXPECT_EQ(Backoff(2, base, max, 200), milliseconds(200));       // ceiling 200
  EXPECT_EQ(Backoff(3, base, max, 399), milliseconds(399));       // ceiling 400
  EXPECT_EQ(Backoff(10, base, max, 2'000), milliseconds(2'000));  // capped at max
  EXPECT_EQ(Backoff(10, base, max, 2'001), milliseconds(0));
  EXPECT_EQ(Backoff(60, base, max, 1'999), milliseconds(1'999));  // no overflow
  EXPECT_EQ(Backoff(0, base, max, 5), milliseconds(0));
}

TEST(AfterFailure, DecidesWhereTheChainGoes) {
  using detail::Next;
  ChainOptions o;
  o.retries_per_deployment = 1;
  struct Case {
    core::Error error;
    int retries_done;
    bool very_last;
    Next want;
  };
  const Case cases[] = {
      {Failure(core::Errc::kVerificationFailed), 0, false, Next::kNextModel},
      {Failure(core::Errc::kUpstreamRejected, 400), 0, false, Next::kStop},
      {Failure(core::Errc::kUpstreamUnavailable, 503), 0, false, Next::kRetryHere},
      {Failure(core::Errc::kUpstreamUnavailable, 503), 1, false, Next::kNextDeployment},
      {Failure(core::Errc::kRateLimited, 429), 0, false, Next::kRetryHere},
      {Failure(core::Errc::kRateLimited, 429, milliseconds(5)), 0, false, Next::kNextDeployment},
      {Failure(core::Errc::kRateLimited, 429, milliseconds(5)), 0, true, Next::kRetryHere},
      {Failure(core::Errc::kUpstreamTimeout), 0, false, Next::kNextDeployment},
      {Failure(core::Errc::kUpstreamRejected, 401), 0, false, Next::kNextDeployment},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(detail::AfterFailure(c.error, c.retries_done, c.very_last, o), c.want)
        << core::ErrcName(c.error.code) << " " << c.error.upstream_status;
  }
}

TEST(CountsAgainstHealth, OnlyTheUpstreamsOwnFailures) {
  EXPECT_TRUE(CountsAgainstHealth(Failure(core::Errc::kUpstreamUnavailable, 503)));
  EXPECT_TRUE(CountsAgainstHealth(Failure(core::Errc::kUpstreamTimeout)));
  EXPECT_TRUE(CountsAgainstHealth(Failure(core::Errc::kUpstreamRejected, 401)));
  EXPECT_FALSE(CountsAgainstHealth(Failure(core::Errc::kUpstreamRejected, 400)));
  EXPECT_FALSE(CountsAgainstHealth(Failure(core::Errc::kRateLimited, 429)));
  EXPECT_FALSE(CountsAgainstHealth(Failure(core::Errc::kVerificationFailed)));
  EXPECT_FALSE(CountsAgainstHealth(Failure(core::Errc::kInvalidRequest)));
}

TEST(IsRetryable, DecidesByCodeAndUpstreamStatus) {
  EXPECT_TRUE(IsRetryable(Failure(core::Errc::kRateLimited, 429)));
  EXPECT_TRUE(IsRetryable(Failure(core::Errc::kUpstreamTimeout)));
  EXPECT_TRUE(IsRetryable(Failure(core::Errc::kUpstreamUnavailable, 529)));
  EXPECT_TRUE(IsRetryable(Failure(core::Errc::kUpstreamRejected, 401)));
  EXPECT_TRUE(IsRetryable(Failure(core::Errc::kUpstreamRejected, 404)));
  EXPECT_FALSE(IsRetryable(Failure(core::Errc::kUpstreamRejected, 400)));
  EXPECT_FALSE(IsRetryable(Failure(core::Errc::kInvalidRequest)));
  EXPECT_TRUE(IsRetryable(Failure(core::Errc::kVerificationFailed)));
}

}  // namespace
}  // namespace sy::failover
