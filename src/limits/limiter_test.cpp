#include "limits/limiter.h"

#include <limits>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace sy::limits {
namespace {

constexpr int64_t kNow = 1'796'205'600'000;  // 2026-12-02T10:00:00Z
constexpr std::string_view kPepper = "test-pepper";
const KeyHasher& Hasher() {
  static const KeyHasher hasher(kPepper);
  return hasher;
}

core::Money Usd(std::string_view s) { return *core::Money::Parse(s); }

struct Fixture {
  std::string secret = NewKey();
  std::shared_ptr<const Directory> dir;

  explicit Fixture(Policy key_policy, Policy tenant_policy = {}) {
    Key k;
    k.id = "key_a";
    k.tenant = "acme";
    k.hash = HashKey(kPepper, secret);
    k.policy = std::move(key_policy);
    dir = Directory::Build({k}, {Tenant{"acme", std::move(tenant_policy), 0, {}}}, nullptr);
  }
  const Key& key() const { return dir->keys().front(); }
};

Policy Rpm(int64_t n) {
  Policy p;
  p.limits.requests_per_minute = n;
  return p;
}

Policy DailyBudget(std::string_view usd) {
  Policy p;
  p.budgets.usd_per_day = Usd(usd);
  return p;
}

TEST(LimiterTest, RequestsPerMinuteRefusesTheFourthWithRetryAfterAndHeaders) {
  Fixture f(Rpm(3));
  RateHeaders h;
  for (int i = 0; i < 3; ++i) {
    h = {};
    ASSERT_TRUE(Admit(f.key(), kNow, h)) << i;
  }
  EXPECT_EQ(h.requests->limit, 3);
  EXPECT_EQ(h.requests->remaining, 0);
  EXPECT_EQ(h.requests->reset_ms, 60'000);
  h = {};
  auto refused = Admit(f.key(), kNow + 1'000, h);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, core::Errc::kRateLimited);
  EXPECT_EQ(refused.error().message,
            "Rate limit reached: key key_a (tenant acme) allows 3 requests per minute; try "
            "again in 19s.");
  EXPECT_EQ(refused.error().reason, "requests");
  EXPECT_EQ(refused.error().retry_after, std::chrono::milliseconds(19'000));
  EXPECT_TRUE(Admit(f.key(), kNow + 20'000, h));
}

TEST(LimiterTest, TenantLimitAppliesAcrossItsKeys) {
  Fixture f(Policy{}, Rpm(1));
  RateHeaders h;
  ASSERT_TRUE(Admit(f.key(), kNow, h));
  auto refused = Admit(f.key(), kNow, h);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("tenant acme allows 1 requests"), std::string::npos);
}

TEST(LimiterTest, BudgetAfterModeRefusesOnceSpentReachesTheLimit) {
  Fixture f(DailyBudget("0.01"));
  RateHeaders h;
  ASSERT_TRUE(Admit(f.key(), kNow, h));
  Settle(f.key(), {}, Usd("0.006"), 100, kNow, kNow);
  ASSERT_TRUE(Admit(f.key(), kNow, h));
  Settle(f.key(), {}, Usd("0.0045"), 100, kNow, kNow);
  auto refused = Admit(f.key(), kNow, h);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, core::Errc::kBudgetExceeded);
  EXPECT_EQ(refused.error().message,
            "Budget exceeded: key key_a (tenant acme) has spent $0.0105 of its $0.01 daily "
            "budget; the UTC day resets at 2026-12-03T00:00:00Z.");
  EXPECT_EQ(refused.error().reason, "budget_day");
  EXPECT_EQ(refused.error().retry_after, std::chrono::milliseconds(14 * 3'600'000));
  // The next UTC day starts from zero.
  EXPECT_TRUE(Admit(f.key(), kNow + 14 * 3'600'000, h));
}

TEST(LimiterTest, EstimateModeReservesWorstCaseAndSettlesTheRealCost) {
  Fixture f(Policy{}, DailyBudget("0.01"));
  ASSERT_TRUE(Reserve(f.key(), Usd("0.006"), kNow));
  auto refused = Reserve(f.key(), Usd("0.005"), kNow);  // 0.006 reserved + 0.005 > 0.01
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().message,
            "Budget exceeded: tenant acme: this request could cost up to $0.005 and $0.004 of "
            "its $0.01 daily budget remains after what requests in flight hold; the UTC day "
            "resets at 2026-12-03T00:00:00Z.");
  Settle(f.key(), Usd("0.006"), Usd("0.001"), 10, kNow, kNow);
  EXPECT_TRUE(Reserve(f.key(), Usd("0.009"), kNow));
  EXPECT_EQ(CurrentSpend(*f.key().owner->account, kNow).day, Usd("0.001"));
  EXPECT_EQ(CurrentSpend(*f.key().account, kNow).month, Usd("0.001"));
}

TEST(LimiterTest, TokensPerMinuteAdmitsWhileTheBucketHoldsAny) {
  Policy p;
  p.limits.tokens_per_minute = 1'000;
  Fixture f(p);
  RateHeaders h;
  ASSERT_TRUE(Admit(f.key(), kNow, h));
  EXPECT_EQ(h.tokens->remaining, 1'000);
  Settle(f.key(), {}, {}, 1'200, kNow, kNow);
  auto refused = Admit(f.key(), kNow, h);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("allows 1000 tokens per minute; try again in 12.06s"),
            std::string::npos)
      << refused.error().message;
  EXPECT_EQ(refused.error().reason, "tokens");
}

// The metrics' label comes from the reason, not the message: a tenant or key named after a
// window or a limit does not change it.
TEST(LimiterTest, AMonthlyBudgetIsToldFromADailyOneWhateverTheNames) {
  Key k;
  k.id = "monthly-tokens-per-minute";
  k.tenant = "monthly-ops";
  Policy month;
  month.budgets.usd_per_month = Usd("0.01");
  k.policy = DailyBudget("0.01");
  const auto dir = Directory::Build({k}, {Tenant{"monthly-ops", month, 0, {}}}, nullptr);
  const Key& key = dir->keys().front();
  RateHeaders h;
  ASSERT_TRUE(Admit(key, kNow, h));
  Settle(key, {}, Usd("0.02"), 100, kNow, kNow);
  const auto refused = Admit(key, kNow, h);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, core::Errc::kBudgetExceeded);
  // Both are over; the key's own daily budget is checked first.
  EXPECT_EQ(refused.error().reason, "budget_day") << refused.error().message;
  Key tenant_only = k;
  tenant_only.policy = {};
  const auto dir2 = Directory::Build({tenant_only}, {Tenant{"monthly-ops", month, 0, {}}}, nullptr);
  ASSERT_TRUE(Admit(dir2->keys().front(), kNow, h));
  Settle(dir2->keys().front(), {}, Usd("0.02"), 100, kNow, kNow);
  const auto by_tenant = Admit(dir2->keys().front(), kNow, h);
  ASSERT_FALSE(by_tenant);
  EXPECT_EQ(by_tenant.error().reason, "budget_month") << by_tenant.error().message;
}

TEST(LimiterTest, ReloadKeepsTheCounters) {
  Fixture f(Rpm(1));
  RateHeaders h;
  ASSERT_TRUE(Admit(f.key(), kNow, h));
  Key copy = f.key();
  copy.account.reset();
  auto reloaded = Directory::Build({copy}, {Tenant{"acme", {}, 0, {}}}, f.dir.get());
  EXPECT_FALSE(Admit(reloaded->keys().front(), kNow, h));
}

TEST(LimiterTest, SeedSetsTodaysAndThisMonthsSpend) {
  Fixture f(DailyBudget("1"));
  Seed(*f.key().account, Usd("1"), Usd("3"), kNow);
  RateHeaders h;
  EXPECT_FALSE(Admit(f.key(), kNow, h));
  EXPECT_EQ(CurrentSpend(*f.key().account, kNow).month, Usd("3"));
}

// An upstream can report any token count, and a cost saturates at int64's largest: a window
// holding one stays spent and refusing, never wraps negative into an unlimited budget.
TEST(LimiterTest, ASaturatedCostLeavesTheWindowSpent) {
  Policy p = DailyBudget("5");
  p.limits.tokens_per_minute = 1'000;
  Fixture f(p);
  RateHeaders h;
  ASSERT_TRUE(Admit(f.key(), kNow, h));
  const auto most = core::Money::FromPico(std::numeric_limits<int64_t>::max());
  const int64_t most_tokens = std::numeric_limits<int64_t>::max();
  Settle(f.key(), {}, Usd("1"), 10, kNow, kNow);
  Settle(f.key(), {}, most, most_tokens, kNow, kNow);
  Settle(f.key(), {}, most, most_tokens, kNow, kNow);
  EXPECT_EQ(CurrentSpend(*f.key().account, kNow).day, most);
  EXPECT_FALSE(Admit(f.key(), kNow, h));  // the token bucket is a minute in debt, no more
  const auto reserved = Reserve(f.key(), Usd("0.01"), kNow);
  ASSERT_FALSE(reserved);
  EXPECT_EQ(reserved.error().code, core::Errc::kBudgetExceeded);
  const auto later = Admit(f.key(), kNow + 120'000, h);  // the bucket refilled; the budget not
  ASSERT_FALSE(later);
  EXPECT_EQ(later.error().code, core::Errc::kBudgetExceeded);
}

// Regression: reservations were added with a plain +=. Two keys with budgets of 5 million USD
// each, of a tenant without one, reserving their whole budgets at once took the tenant's
// reservations past INT64_MAX pico-dollars (undefined behaviour). They saturate, and settling
// both brings every window back to 0 (limits/budget.h, "Reservations").
TEST(LimiterTest, ReservationsPastInt64SaturateAndSettleBackToZero) {
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  Key a;
  a.id = "key_a";
  a.tenant = "acme";
  a.hash = HashKey(kPepper, NewKey());
  a.policy = DailyBudget("5000000");
  Key b = a;
  b.id = "key_b";
  b.hash = HashKey(kPepper, NewKey());
  const auto dir = Directory::Build({a, b}, {Tenant{"acme", {}, 0, {}}}, nullptr);
  const Key& key_a = dir->keys()[0];
  const Key& key_b = dir->keys()[1];
  Account& tenant = *key_a.owner->account;
  const core::Money estimate = Usd("5000000");
  ASSERT_TRUE(Reserve(key_a, estimate, kNow));
  ASSERT_TRUE(Reserve(key_b, estimate, kNow));
  EXPECT_EQ(tenant.day.reserved_pico, kMax);
  EXPECT_EQ(tenant.month.reserved_pico, kMax);
  EXPECT_EQ(key_a.account->day.reserved_pico, estimate.pico());
  Settle(key_a, estimate, Usd("1"), 10, kNow, kNow);
  EXPECT_EQ(tenant.day.reserved_pico, kMax - estimate.pico());  // under-counts, never negative
  Settle(key_b, estimate, Usd("1"), 10, kNow, kNow);
  for (const Account* account : {&tenant, key_a.account.get(), key_b.account.get()}) {
    EXPECT_EQ(account->day.reserved_pico, 0);
    EXPECT_EQ(account->month.reserved_pico, 0);
  }
  EXPECT_EQ(CurrentSpend(tenant, kNow).day, Usd("2"));
}

// The auxiliary endpoints (count_tokens, route explain) and generation take from separate buckets
// of the same size: each admits requests_per_minute of its own, whatever the other has left.
TEST(LimiterTest, AuxiliaryRequestsHaveABucketOfTheirOwnOfTheSameSize) {
  using enum Admission;
  struct Case {
    const char* name;
    Policy key;
    Policy tenant;
    std::vector<Admission> admitted;  // in order, at kNow
    Admission refused;                // the next one, at kNow
    std::string message;
  };
  const Case cases[] = {
      {"a full generation bucket leaves counting free",
       Rpm(2),
       {},
       {kGeneration, kGeneration, kAuxiliary, kAuxiliary},
       kAuxiliary,
       "Rate limit reached: key key_a (tenant acme) allows 2 token counts, route explanations, "
       "feedback, reports and stored-response calls "
       "per minute; try again in 30s."},
      {"counting leaves generation free",
       Rpm(2),
       {},
       {kAuxiliary, kAuxiliary, kGeneration, kGeneration},
       kGeneration,
       "Rate limit reached: key key_a (tenant acme) allows 2 requests per minute; try again in "
       "30s."},
      {"the tenant's limit counts every key's counts",
       {},
       Rpm(1),
       {kGeneration, kAuxiliary},
       kAuxiliary,
       "Rate limit reached: tenant acme allows 1 token counts, route explanations, feedback, "
       "reports "
       "and stored-response calls per minute; "
       "try again in 1m0s."},
      {"the tighter of key and tenant decides",
       Rpm(3),
       Rpm(1),
       {kAuxiliary},
       kAuxiliary,
       "Rate limit reached: tenant acme allows 1 token counts, route explanations, feedback, "
       "reports "
       "and stored-response calls per minute; "
       "try again in 1m0s."},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    Fixture f(c.key, c.tenant);
    RateHeaders h;
    for (size_t i = 0; i < c.admitted.size(); ++i) {
      h = {};
      ASSERT_TRUE(Admit(f.key(), kNow, h, c.admitted[i])) << i;
    }
    h = {};
    auto refused = Admit(f.key(), kNow, h, c.refused);
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code, core::Errc::kRateLimited);
    EXPECT_EQ(refused.error().message, c.message);
    EXPECT_EQ(refused.error().reason, c.refused == kAuxiliary ? "auxiliary_requests" : "requests");
    ASSERT_TRUE(refused.error().retry_after);
    EXPECT_GE(refused.error().retry_after->count(), 1);
    ASSERT_TRUE(h.requests);  // the refused bucket's state, as a generation refusal sends
    EXPECT_EQ(h.requests->remaining, 0);
  }
}

TEST(LimiterTest, AuxiliaryRequestsSkipBudgetsAndTokensAndRefillLikeRequests) {
  Policy p = Rpm(2);
  p.limits.tokens_per_minute = 10;
  p.budgets.usd_per_day = Usd("1");
  Fixture f(p);
  RateHeaders h;
  ASSERT_TRUE(Admit(f.key(), kNow, h));
  Settle(f.key(), {}, Usd("5"), 1'000, kNow, kNow);  // over budget, tokens a minute in debt
  EXPECT_FALSE(Admit(f.key(), kNow, h));
  for (int i = 0; i < 2; ++i) {
    h = {};
    ASSERT_TRUE(Admit(f.key(), kNow, h, Admission::kAuxiliary)) << i;
    EXPECT_FALSE(h.tokens);  // no token state: counting spends none
  }
  EXPECT_EQ(h.requests->limit, 2);
  EXPECT_EQ(h.requests->remaining, 0);
  EXPECT_EQ(h.requests->reset_ms, 60'000);
  EXPECT_FALSE(Admit(f.key(), kNow + 29'999, h, Admission::kAuxiliary));
  EXPECT_TRUE(Admit(f.key(), kNow + 30'000, h, Admission::kAuxiliary));  // one back after 30s
}

TEST(LimiterTest, WithoutRequestsPerMinuteAuxiliaryRequestsAreUnlimited) {
  Policy p;
  p.limits.tokens_per_minute = 1;
  p.budgets.usd_per_day = Usd("0");
  Fixture f(p);
  RateHeaders h;
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(Admit(f.key(), kNow, h, Admission::kAuxiliary)) << i;
  EXPECT_FALSE(h.requests);
  EXPECT_FALSE(h.tokens);
}

TEST(DirectoryTest, AuthenticateTellsRevokedFromUnknownOnly) {
  Fixture f(Policy{});
  EXPECT_EQ(*f.dir->Authenticate(f.secret, Hasher(), kNow), &f.key());
  auto unknown = f.dir->Authenticate(NewKey(), Hasher(), kNow);
  auto malformed = f.dir->Authenticate("sk-sy-short", Hasher(), kNow);
  const KeyHasher other("other");
  auto wrong_pepper = f.dir->Authenticate(f.secret, other, kNow);
  for (const auto* r : {&unknown, &malformed, &wrong_pepper}) {
    ASSERT_FALSE(*r);
    EXPECT_EQ(r->error().code, core::Errc::kUnauthenticated);
    EXPECT_EQ(r->error().message, "Invalid API key.");
  }
  Key revoked = f.key();
  revoked.revoked_at_ms = kNow;
  auto dir = Directory::Build({revoked}, {}, nullptr);
  auto r = dir->Authenticate(f.secret, Hasher(), kNow);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "This API key was revoked at 2026-12-02T10:00:00Z.");
  EXPECT_EQ(r.error().reason, "revoked");
  EXPECT_EQ(unknown.error().reason, "");
}

TEST(DirectoryTest, RotatedSecretWorksUntilItsGraceEnds) {
  Fixture f(Policy{});
  Key rotated = f.key();
  const std::string fresh = NewKey();
  rotated.previous_hash = rotated.hash;
  rotated.previous_valid_until_ms = kNow + 1'000;
  rotated.hash = HashKey(kPepper, fresh);
  auto dir = Directory::Build({rotated}, {}, nullptr);
  EXPECT_TRUE(dir->Authenticate(fresh, Hasher(), kNow + 5'000));
  EXPECT_TRUE(dir->Authenticate(f.secret, Hasher(), kNow + 999));
  EXPECT_FALSE(dir->Authenticate(f.secret, Hasher(), kNow + 1'000));
  EXPECT_EQ(dir->keys().front().owner->name, "acme");  // implied tenant
}

TEST(LimiterTest, ResetDurationsReadLikeOpenAis) {
  EXPECT_EQ(FormatResetDuration(0), "0ms");
  EXPECT_EQ(FormatResetDuration(850), "850ms");
  EXPECT_EQ(FormatResetDuration(1'000), "1s");
  EXPECT_EQ(FormatResetDuration(1'500), "1.5s");
  EXPECT_EQ(FormatResetDuration(12'060), "12.06s");
  EXPECT_EQ(FormatResetDuration(360'000), "6m0s");
  EXPECT_EQ(FormatResetDuration(61'001), "1m2s");
}

}  // namespace
}  // namespace sy::limits
