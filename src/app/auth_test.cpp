#include "app/auth.h"

#include <limits>
#include <memory>
#include <string>
#include <string_view>

#include <gtest/gtest.h>

#include "app/services_testing.h"
#include "limits/directory.h"
#include "tests/testutil/null_response_writer.h"

namespace sy::app {
namespace {

TEST(AuthTest, BearerTokenReadsOnlyBearerCredentials) {
  const struct {
    const char* header;
    const char* token;
  } cases[] = {
      {"Bearer sk-sy-abc", "sk-sy-abc"},
      {"bearer  sk-sy-abc ", "sk-sy-abc"},
      {"BEARER x", "x"},
      {"Bearer", ""},
      {"Bearer ", ""},
      {"Basic dXNlcjpwYXNz", ""},
      {"Token sk-sy-abc", ""},
      {"sk-sy-abc", ""},
  };
  for (const auto& c : cases) EXPECT_EQ(BearerToken(c.header), c.token) << c.header;
}

TEST(AuthTest, PresentedKeyPrefersAuthorizationAndRefusesOddHeaders) {
  http::Headers both;
  both.Add("authorization", "Bearer from-authorization");
  both.Add("x-api-key", "from-x-api-key");
  EXPECT_EQ(*PresentedKey(both), "from-authorization");
  http::Headers anthropic;
  anthropic.Add("x-api-key", "from-x-api-key");
  EXPECT_EQ(*PresentedKey(anthropic), "from-x-api-key");
  for (const std::string& value : {std::string("Basic abc"), "Bearer " + std::string(600, 'a'),
                                   std::string("Bearer \xc3\xa9")}) {
    http::Headers odd;
    odd.Add("authorization", value);
    auto key = PresentedKey(odd);
    ASSERT_FALSE(key) << value.substr(0, 20);
    EXPECT_EQ(key.error().message, "Invalid API key.");
  }
  auto none = PresentedKey(http::Headers());
  ASSERT_FALSE(none);
  EXPECT_EQ(AuthFailureReason(none.error()), "missing");
}

constexpr std::string_view kCompareKey = "the compare key of this test";
constexpr std::string_view kMetricsToken = "metrics-token-0123456789abcdef";
constexpr std::string_view kAdminToken = "admin-token-0123456789abcdef";

http::Headers Authorization(std::string_view value) {
  http::Headers headers;
  if (!value.empty()) headers.Add("authorization", std::string(value));
  return headers;
}

TEST(AuthTest, PresentsTokenMatchesOnlyTheTokenAsABearerCredential) {
  const struct {
    std::string_view authorization;
    std::string_view token;
    bool matches;
  } cases[] = {
      {"Bearer metrics-token-0123456789abcdef", kMetricsToken, true},
      {"bearer  metrics-token-0123456789abcdef ", kMetricsToken, true},
      {"", kMetricsToken, false},
      {"metrics-token-0123456789abcdef", kMetricsToken, false},  // no scheme
      {"Basic metrics-token-0123456789abcdef", kMetricsToken, false},
      {"Bearer metrics-token-0123456789abcde", kMetricsToken, false},  // a prefix
      {"Bearer metrics-token-0123456789abcdefX", kMetricsToken, false},
      {"Bearer ", "", false},  // an unset token admits nobody
      {"Bearer x", "", false},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(PresentsToken(Authorization(c.authorization), kCompareKey, c.token), c.matches)
        << c.authorization;
  }
}

TEST(AuthTest, MetricsNeedTheMetricsOrTheAdminTokenOnlyWhenOneIsSet) {
  const struct {
    std::string_view metrics_token;
    std::string_view admin_token;
    std::string_view authorization;
    bool may;
  } cases[] = {
      {"", "", "", true},  // no metrics token: open, as before
      {"", kAdminToken, "", true},
      {"", "", "Bearer anything", true},
      {kMetricsToken, "", "", false},
      {kMetricsToken, "", "Bearer wrong-token-0123456789abcdef", false},
      {kMetricsToken, "", "Bearer metrics-token-0123456789abcdef", true},
      {kMetricsToken, kAdminToken, "Bearer admin-token-0123456789abcdef", true},
      {kMetricsToken, kAdminToken, "Bearer metrics-token-0123456789abcdef", true},
      {kMetricsToken, "", "Bearer admin-token-0123456789abcdef", false},  // no admin token set
      {kMetricsToken, "", "Bearer ", false},
      {kMetricsToken, kAdminToken, "Basic admin-token-0123456789abcdef", false},
  };
  for (const auto& c : cases) {
    config::Config config;
    config.metrics.token = std::string(c.metrics_token);
    config.auth.admin_token = std::string(c.admin_token);
    EXPECT_EQ(MayScrapeMetrics(Authorization(c.authorization), config, kCompareKey), c.may)
        << c.metrics_token << " / " << c.admin_token << " / " << c.authorization;
  }
}

TEST(AuthTest, OpenMetricsWarnOnlyWithKeysOnAndNoToken) {
  const struct {
    bool enabled;
    std::string_view mode;
    std::string_view token;
    bool warns;
  } cases[] = {
      {true, "keys", "", true},
      {true, "keys", kMetricsToken, false},
      {true, "off", "", false},  // no tenants to show
      {false, "keys", "", false},
  };
  for (const auto& c : cases) {
    config::Config config;
    config.metrics.enabled = c.enabled;
    config.auth.mode = std::string(c.mode);
    config.metrics.token = std::string(c.token);
    EXPECT_EQ(OpenMetricsWarning(config).has_value(), c.warns) << c.enabled << c.mode << c.token;
  }
  config::Config config;
  EXPECT_EQ(OpenMetricsWarning(config),
            "GET /metrics is open to anyone who can reach the port, and it names tenants and "
            "shows their budgets and spend: set SWITCHYARD_METRICS_TOKEN (metrics.token_env) to "
            "require Authorization: Bearer <token>");
}

core::Error Refusal(core::Errc code, std::string message, std::string_view reason) {
  auto e = core::MakeError(code, std::move(message));
  e.reason = reason;
  return e;
}

// The label is the producer's reason (the directory says "revoked", PresentedKey "missing"),
// never the message's wording.
TEST(AuthTest, AuthFailureReasonNamesEachRefusal) {
  EXPECT_EQ(AuthFailureReason(core::MakeError(core::Errc::kUnauthenticated, "Invalid API key.")),
            "invalid");
  EXPECT_EQ(AuthFailureReason(
                Refusal(core::Errc::kUnauthenticated, "This API key was revoked.", "revoked")),
            "revoked");
  EXPECT_EQ(AuthFailureReason(core::MakeError(core::Errc::kUnauthenticated,
                                              "No API key, and this key was revoked")),
            "invalid");
  EXPECT_EQ(AuthFailureReason(core::MakeError(core::Errc::kForbidden, "This key may not use")),
            "forbidden");
}

// A request of key_a (tenant acme, no budget) whose routing kept one model, as the execute stage
// sees it before each attempt (budget_check estimate, the default).
class ReserveAttemptTest : public ::testing::Test, protected DefaultServices {
 protected:
  ReserveAttemptTest() : ctx_(http_, writer_, services_) {}

  void Start(core::Money daily_budget, core::Money worst_case) {
    limits::Key key;
    key.id = "key_a";
    key.tenant = "acme";
    key.policy.budgets.usd_per_day = daily_budget;
    auto dir = limits::Directory::Build({key}, {limits::Tenant{"acme", {}, 0, {}}}, nullptr);
    ctx_.caller.emplace();
    ctx_.caller->key = &dir->keys().front();
    ctx_.caller->directory = std::move(dir);
    model_.id = "m";
    deployment_.model = &model_;
    routing::Candidate candidate;
    candidate.model = &model_;
    candidate.worst_case_cost = worst_case;
    candidate.kept = true;
    ctx_.decision.emplace();
    ctx_.decision->candidates.push_back(std::move(candidate));
    ctx_.decision->kept = 1;
  }

  const limits::Account& account() const { return *ctx_.caller->key->account; }

  config::ModelConfig model_;
  catalog::Deployment deployment_;
  http::ServerRequest http_;
  testutil::NullResponseWriter writer_;
  RequestContext ctx_;
};

// Regression: the request's running reservation total was added with Money's plain +=, which
// overflowed (undefined behaviour) once its attempts' worst cases passed INT64_MAX pico-dollars
// (a budget of INT64_MAX pico-dollars refuses no estimate). It saturates as the windows do, and
// settling releases all the windows hold.
TEST_F(ReserveAttemptTest, ARunningTotalPastInt64SaturatesAndSettlesToZero) {
  const auto most = core::Money::FromPico(std::numeric_limits<int64_t>::max());
  Start(most, most);
  ASSERT_TRUE(ReserveAttempt(ctx_, deployment_));
  ASSERT_TRUE(ReserveAttempt(ctx_, deployment_));  // a failover's second attempt
  EXPECT_EQ(ctx_.caller->reserved, most);
  EXPECT_EQ(account().day.reserved_pico, most.pico());
  Settle(ctx_);
  EXPECT_EQ(ctx_.caller->reserved, core::Money());
  EXPECT_EQ(account().day.reserved_pico, 0);
  EXPECT_EQ(account().month.reserved_pico, 0);
  EXPECT_EQ(ctx_.caller->key->owner->account->day.reserved_pico, 0);
}

// Regression (audit 3): an attempt reserved the model's list-price worst case, though it is
// billed at its deployment's price; a dearer override let a key overspend its budget 16x.
TEST_F(ReserveAttemptTest, AnAttemptReservesItsDeploymentsWorstCase) {
  Start(*core::Money::Parse("1"), *core::Money::Parse("0.05"));
  catalog::Deployment listed;
  listed.model = &model_;
  auto& candidate = ctx_.decision->candidates.front();
  routing::DeploymentChoice cheap;
  cheap.deployment = &listed;
  cheap.worst_case_cost = *core::Money::Parse("0.0005");
  routing::DeploymentChoice dear;
  dear.deployment = &deployment_;
  dear.worst_case_cost = *core::Money::Parse("0.05");
  candidate.deployments = {cheap, dear};
  ASSERT_TRUE(ReserveAttempt(ctx_, listed));
  EXPECT_EQ(ctx_.caller->reserved.ToString(), "0.0005");
  ASSERT_TRUE(ReserveAttempt(ctx_, deployment_));  // the failover to the dear deployment
  EXPECT_EQ(ctx_.caller->reserved.ToString(), "0.0505");
  EXPECT_EQ(account().day.reserved_pico, ctx_.caller->reserved.pico());
  Settle(ctx_);
}

}  // namespace
}  // namespace sy::app
