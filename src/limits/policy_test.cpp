#include "limits/policy.h"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <gtest/gtest.h>

namespace sy::limits {
namespace {

core::Status Apply(std::string_view json, Policy& p, bool for_key = true) {
  return ApplyPolicy(boost::json::parse(json).as_object(), for_key, p);
}

TEST(PolicyTest, ReadsBudgetsLimitsAndAllowedLists) {
  Policy p;
  ASSERT_TRUE(Apply(R"({"budgets":{"usd_per_day":"5.00","usd_per_month":"100"},
      "limits":{"requests_per_minute":600,"tokens_per_minute":200000},
      "allowed_profiles":["auto"],"allowed_models":["gpt-5.5","economy"]})",
                    p));
  EXPECT_EQ(p.budgets.usd_per_day->ToString(), "5");
  EXPECT_EQ(p.budgets.usd_per_month->ToString(), "100");
  EXPECT_EQ(p.limits.requests_per_minute, 600);
  EXPECT_EQ(p.limits.tokens_per_minute, 200'000);
  EXPECT_EQ(p.allowed_models->size(), 2u);
  EXPECT_EQ(boost::json::serialize(PolicyObject(p, true)),
            R"({"budgets":{"usd_per_day":"5","usd_per_month":"100"},)"
            R"("limits":{"requests_per_minute":600,"tokens_per_minute":200000},)"
            R"("allowed_profiles":["auto"],"allowed_models":["gpt-5.5","economy"]})");
  auto back = ParsePolicyJson(PolicyJson(p));
  ASSERT_TRUE(back);
  EXPECT_EQ(PolicyJson(*back), PolicyJson(p));
}

TEST(PolicyTest, PatchReplacesWhatItNamesAndNullClears) {
  Policy p;
  ASSERT_TRUE(Apply(R"({"budgets":{"usd_per_day":"5"},"allowed_models":["a"]})", p));
  ASSERT_TRUE(Apply(R"({"limits":{"requests_per_minute":3},"allowed_models":null})", p));
  EXPECT_EQ(p.budgets.usd_per_day->ToString(), "5");
  EXPECT_EQ(p.limits.requests_per_minute, 3);
  EXPECT_FALSE(p.allowed_models);
}

struct Bad {
  const char* body;
  const char* param;
};

// Regression: the ceiling was a billion dollars, past what a Money holds, so a budget over
// about 9.22 million USD was refused as "not a decimal string" and the stated range was false.
TEST(PolicyTest, ABudgetRunsToTheLargestMoneyAndTheMessageSaysSo) {
  const struct {
    const char* budget;
    bool accepted;
  } cases[] = {
      {"0", true},
      {"9223372.036854775807", true},
      {"9223372.036854775808", false},
      {"9999999999999", false},
      {"-0.01", false},
  };
  for (const auto& c : cases) {
    Policy p;
    auto s = Apply(std::string(R"({"budgets":{"usd_per_month":")") + c.budget + R"("}})", p);
    EXPECT_EQ(s.has_value(), c.accepted) << c.budget;
    if (!s) {
      EXPECT_EQ(
          s.error().message,
          R"(budgets.usd_per_month must be a decimal string from "0" to "9223372.036854775807" (USD))")
          << c.budget;
    }
  }
}

TEST(PolicyTest, RefusesWhatIsNotADecimalOrInRange) {
  const Bad cases[] = {
      {R"({"budgets":{"usd_per_day":5}})", "budgets.usd_per_day"},
      {R"({"budgets":{"usd_per_day":"5.0.0"}})", "budgets.usd_per_day"},
      {R"({"budgets":{"usd_per_day":"-1"}})", "budgets.usd_per_day"},
      {R"({"budgets":{"usd_per_day":"1e3"}})", "budgets.usd_per_day"},
      {R"({"budgets":{"usd_per_month":"9999999999"}})", "budgets.usd_per_month"},
      {R"({"budgets":{"usd_per_dya":"1"}})", "budgets"},
      {R"({"budgets":"5"})", "budgets"},
      {R"({"limits":{"requests_per_minute":0}})", "limits.requests_per_minute"},
      {R"({"limits":{"tokens_per_minute":1.5}})", "limits.tokens_per_minute"},
      {R"({"limits":{"tokens_per_minute":"10"}})", "limits.tokens_per_minute"},
      {R"({"allowed_models":"gpt-5.5"})", "allowed_models"},
      {R"({"allowed_models":[""]})", "allowed_models"},
  };
  for (const auto& c : cases) {
    Policy p;
    auto s = Apply(c.body, p);
    ASSERT_FALSE(s) << c.body;
    EXPECT_EQ(s.error().code, core::Errc::kInvalidRequest);
    EXPECT_EQ(s.error().param, c.param) << c.body;
    EXPECT_EQ(s.error().message.rfind(c.param, 0), 0u) << s.error().message;
  }
}

TEST(PolicyTest, TenantsIgnoreAllowedLists) {
  Policy p;
  ASSERT_TRUE(Apply(R"({"allowed_models":"not even an array"})", p, false));
  EXPECT_FALSE(p.allowed_models);
}

TEST(PolicyTest, CorruptStoredJsonIsInternal) {
  EXPECT_EQ(ParsePolicyJson("{").error().code, core::Errc::kInternal);
}

}  // namespace
}  // namespace sy::limits
