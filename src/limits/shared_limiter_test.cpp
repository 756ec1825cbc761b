#include "limits/shared_limiter.h"

#include <chrono>

#include <gtest/gtest.h>

#include "limits/allowance.h"

namespace sy::limits {
namespace {

constexpr int64_t kNow = 1'796'205'600'000;  // 2026-12-02T10:00:00Z
constexpr int64_t kDay = 20'789;             // its UTC day index
constexpr int kPercent = 5;

core::Money Usd(std::string_view s) { return *core::Money::Parse(s); }

struct Fixture {
  std::shared_ptr<const Directory> dir;

  explicit Fixture(Policy key_policy, Policy tenant_policy = {}) {
    Key k;
    k.id = "key_a";
    k.tenant = "acme";
    k.hash = HashKey("pepper", NewKey());
    k.policy = std::move(key_policy);
    dir = Directory::Build({k}, {Tenant{"acme", std::move(tenant_policy), 0, {}}}, nullptr);
  }
  const Key& key() const { return dir->keys().front(); }
  Account& account() const { return *key().account; }

  // Sends `calls` to a made-up Redis answering each with `reply`, as counters.cpp does.
  void Answer(std::vector<SharedCall>& calls, const SharedReply& reply, int64_t at = kNow) {
    for (SharedCall& call : calls) {
      Account& a = call.tenant ? *key().owner->account : account();
      TakeReport(a, at, call);
      ApplyReply(a, call, reply, at);
    }
  }
};

Policy DailyBudget(std::string_view usd) {
  Policy p;
  p.budgets.usd_per_day = Usd(usd);
  return p;
}

Policy Rpm(int64_t n) {
  Policy p;
  p.limits.requests_per_minute = n;
  return p;
}

TEST(AllowanceTest, NanoDollarsRoundTowardRefusing) {
  EXPECT_EQ(NanoCeil(Usd("0.000000001")), 1);
  EXPECT_EQ(NanoCeil(Usd("0.000000001001")), 2);
  EXPECT_EQ(NanoFloor(Usd("0.000000001999")), 1);
  EXPECT_EQ(NanoFloor(Usd("5")), 5'000'000'000);
  EXPECT_EQ(NanoCeil(core::Money()), 0);
  EXPECT_EQ(FromNano(1'500'000'000), Usd("1.5"));
}

TEST(AllowanceTest, WantIsAShareOfWhatRemainsAtLeastTheNeed) {
  struct Case {
    int64_t limit, shared_spent, unreported, need;
    int percent;
    int64_t want;
  };
  const Case cases[] = {
      {1'000'000, 0, 0, 1, 5, 50'000},       // 5% of all of it
      {1'000'000, 900'000, 0, 1, 5, 5'000},  // near the limit, grants shrink
      {1'000'000, 900'000, 80'000, 1, 5, 1'000},
      {1'000'000, 999'990, 0, 1, 5, 1},         // at the limit: the least useful grant
      {1'000'000, 1'200'000, 0, 1, 5, 1},       // past it
      {1'000'000, 0, 0, 70'000, 5, 70'000},     // an estimate larger than the share
      {INT64_MAX, 0, 0, 1, 50, INT64_MAX / 2},  // no overflow
  };
  for (const Case& c : cases) {
    BudgetAllowance a{.shared_spent = c.shared_spent};
    a.unreported = c.unreported;
    EXPECT_EQ(BudgetWant(c.limit, a, c.need, c.percent), c.want)
        << c.limit << " " << c.shared_spent;
  }
  EXPECT_EQ(RateWant(60, 5), 3);
  EXPECT_EQ(RateWant(10, 5), 1);
  EXPECT_EQ(RateWant(1'000'000, 5), 50'000);
}

TEST(AllowanceTest, LapsedAllowancesAndLeasesSpendNothingButDebtsStay) {
  BudgetAllowance a{.index = 1, .granted = 100, .reserved_pico = 30'000, .valid_until_ms = 1'000};
  EXPECT_EQ(Spendable(a, 999), 70);
  EXPECT_TRUE(Covers(a, 70, 999));
  EXPECT_FALSE(Covers(a, 71, 999));
  EXPECT_EQ(Spendable(a, 1'000), 0);
  EXPECT_FALSE(Covers(a, 1, 1'000));
  RateLease l{.units = 3, .valid_until_ms = 1'000};
  EXPECT_EQ(Usable(l, 999), 3);
  EXPECT_EQ(Usable(l, 1'000), 0);
  l.units = -40;
  EXPECT_EQ(Usable(l, 5'000), -40);
}

TEST(AllowanceTest, ANewPeriodStartsOverButKeepsReservations) {
  BudgetAllowance a{.index = 1, .granted = 100, .reserved_pico = 30'000, .unreported = 7};
  RollAllowance(a, 1);
  EXPECT_EQ(a.granted, 100);
  RollAllowance(a, 2);
  EXPECT_EQ(a.index, 2);
  EXPECT_EQ(a.granted, 0);
  EXPECT_EQ(a.unreported, 0);
  EXPECT_EQ(a.reserved_pico, 30'000);
}

// A request received before midnight that reserves after it must not take the window back to
// the old day: the new day's unreported spend would be lost to the shared total.
TEST(AllowanceTest, AnEarlierPeriodNeverRollsTheWindowBack) {
  BudgetAllowance a{.index = 2, .granted = 100, .reserved_pico = 30'000, .unreported = 7};
  RollAllowance(a, 1);
  EXPECT_EQ(a.index, 2);
  EXPECT_EQ(a.granted, 100);
  EXPECT_EQ(a.unreported, 7);
  EXPECT_EQ(a.reserved_pico, 30'000);
}

TEST(SharedLimiterTest, WithoutAnAllowanceAdmissionAsksForAShareOfTheBudget) {
  Fixture f(DailyBudget("5"));
  std::vector<SharedCall> calls;
  RateHeaders h;
  EXPECT_FALSE(SharedAdmit(f.key(), kNow, kPercent, false, calls, h).has_value());
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].kind, SharedCall::Kind::kBudget);
  EXPECT_FALSE(calls[0].tenant);
  EXPECT_EQ(calls[0].period, Period::kDay);
  EXPECT_EQ(calls[0].index, kDay);
  EXPECT_EQ(calls[0].limit, 5'000'000'000);
  EXPECT_EQ(calls[0].want, 250'000'000);  // 5% of $5
  EXPECT_EQ(calls[0].need, 1);
}

TEST(SharedLimiterTest, AGrantAdmitsWithoutRedisUntilSpent) {
  Fixture f(DailyBudget("5"));
  std::vector<SharedCall> calls;
  RateHeaders h;
  ASSERT_FALSE(SharedAdmit(f.key(), kNow, kPercent, false, calls, h));
  f.Answer(calls, {.grant = 250'000'000, .spent = 1'000'000'000});
  EXPECT_EQ(f.account().shared_day.granted, 250'000'000);
  EXPECT_EQ(f.account().shared_day.shared_spent, 1'000'000'000);
  // The local window (fail_open's) follows the shared spend.
  EXPECT_EQ(f.account().day.spent_pico, Usd("1").pico());
  for (int i = 0; i < 3; ++i) {
    auto decided = SharedAdmit(f.key(), kNow + i, kPercent, false, calls, h);
    ASSERT_TRUE(decided.has_value());
    EXPECT_TRUE(*decided);
    EXPECT_TRUE(calls.empty());
    SharedSettle(f.key(), {}, Usd("0.1"), 0, kNow + i, kNow + i);
  }
  EXPECT_EQ(f.account().shared_day.granted, -50'000'000);  // the third passed the allowance
  EXPECT_EQ(f.account().shared_day.unreported, 300'000'000);
  // Spent: the next request asks again.
  EXPECT_FALSE(SharedAdmit(f.key(), kNow + 5, kPercent, false, calls, h));
  ASSERT_EQ(calls.size(), 1u);
  // The overrun is reported as spend and no longer owed once Redis has it.
  SharedCall& call = calls[0];
  TakeReport(f.account(), kNow + 5, call);
  EXPECT_EQ(call.delta, 300'000'000);
  EXPECT_EQ(call.hold, 0);
  EXPECT_EQ(call.granted, -50'000'000);
  ApplyReply(f.account(), call, {.grant = 100, .spent = 1'300'000'000}, kNow + 5);
  EXPECT_EQ(f.account().shared_day.granted, 100);
  EXPECT_EQ(f.account().shared_day.unreported, 0);
}

TEST(SharedLimiterTest, NoGrantOnTheLastRoundRefusesWithTheSharedSpend) {
  Fixture f(DailyBudget("5"));
  std::vector<SharedCall> calls;
  RateHeaders h;
  ASSERT_FALSE(SharedAdmit(f.key(), kNow, kPercent, false, calls, h));
  f.Answer(calls, {.grant = 0, .spent = 5'010'000'000});
  auto decided = SharedAdmit(f.key(), kNow, kPercent, true, calls, h);
  ASSERT_TRUE(decided.has_value());
  ASSERT_FALSE(*decided);
  EXPECT_EQ(decided->error().code, core::Errc::kBudgetExceeded);
  EXPECT_EQ(decided->error().message,
            "Budget exceeded: key key_a (tenant acme) has spent $5.01 of its $5 daily budget; "
            "the UTC day resets at 2026-12-03T00:00:00Z.");
  EXPECT_EQ(decided->error().retry_after, std::chrono::milliseconds(50'400'000));
}

TEST(SharedLimiterTest, ARefusalSaysWhatOtherReplicasHold) {
  Fixture f(DailyBudget("5"));
  std::vector<SharedCall> calls;
  RateHeaders h;
  ASSERT_FALSE(SharedAdmit(f.key(), kNow, kPercent, false, calls, h));
  f.Answer(calls, {.grant = 0, .spent = 4'980'000'000, .others = 20'000'000});
  auto decided = SharedAdmit(f.key(), kNow, kPercent, true, calls, h);
  ASSERT_TRUE(decided && !*decided);
  EXPECT_EQ(decided->error().message,
            "Budget exceeded: key key_a (tenant acme) has spent $4.98 of its $5 daily budget "
            "(other replicas hold $0.02 of it as allowance; unused, it comes back within "
            "seconds); the UTC day resets at 2026-12-03T00:00:00Z.");
  auto refused = SharedReserve(f.key(), Usd("0.5"), kNow, false);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("could cost up to $0.5 and $0 of its $5 daily budget "
                                         "remains"),
            std::string::npos)
      << refused.error().message;
}

TEST(SharedLimiterTest, RateLeasesAreTakenAUnitARequestAndLapse) {
  Fixture f(Policy{}, Rpm(60));
  std::vector<SharedCall> calls;
  RateHeaders h;
  ASSERT_FALSE(SharedAdmit(f.key(), kNow, kPercent, false, calls, h));
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].kind, SharedCall::Kind::kRequests);
  EXPECT_TRUE(calls[0].tenant);
  EXPECT_EQ(calls[0].want, 3);
  f.Answer(calls, {.grant = 3, .remaining = 57, .wait_ms = 0, .full_ms = 3'000});
  for (int i = 0; i < 3; ++i) {
    h = {};
    auto decided = SharedAdmit(f.key(), kNow + 10, kPercent, false, calls, h);
    ASSERT_TRUE(decided.has_value()) << i;
    EXPECT_TRUE(*decided);
  }
  EXPECT_EQ(h.requests->limit, 60);
  EXPECT_EQ(h.requests->remaining, 57);  // the bucket's, plus none left here
  EXPECT_EQ(h.requests->reset_ms, 3'000);
  EXPECT_FALSE(SharedAdmit(f.key(), kNow + 10, kPercent, false, calls, h));
  // A lease not used within kLeaseMs is given back to the bucket by the next report, not
  // carried into the next grant.
  Account& tenant = *f.key().owner->account;
  f.Answer(calls, {.grant = 2, .remaining = 50}, kNow + 20);
  EXPECT_EQ(tenant.shared_requests.units, 2);
  calls.clear();
  ReportCalls(tenant, f.key().owner->policy, true, kNow + 20 + kLeaseMs - 1, 0, false, calls);
  EXPECT_TRUE(calls.empty());  // still usable
  ReportCalls(tenant, f.key().owner->policy, true, kNow + 20 + kLeaseMs, 0, false, calls);
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].kind, SharedCall::Kind::kRequests);
  EXPECT_EQ(calls[0].want, 0);
  TakeReport(tenant, kNow + 20 + kLeaseMs, calls[0]);
  EXPECT_EQ(calls[0].debit, -2);  // a credit
  EXPECT_EQ(tenant.shared_requests.units, 0);
  GiveBack(tenant, calls[0]);  // Redis failed: they are this replica's (lapsed) units again
  EXPECT_EQ(tenant.shared_requests.units, 2);
  calls[0].debit = 0;
  TakeReport(tenant, kNow + 20 + kLeaseMs, calls[0]);
  ApplyReply(tenant, calls[0], {.grant = 1}, kNow + 20 + kLeaseMs);
  EXPECT_EQ(tenant.shared_requests.units, 1);
}

TEST(SharedLimiterTest, AnEmptyBucketRefusesWithItsWait) {
  Fixture f(Rpm(3));
  std::vector<SharedCall> calls;
  RateHeaders h;
  ASSERT_FALSE(SharedAdmit(f.key(), kNow, kPercent, false, calls, h));
  f.Answer(calls, {.grant = 0, .remaining = 0, .wait_ms = 19'000, .full_ms = 60'000});
  auto decided = SharedAdmit(f.key(), kNow, kPercent, true, calls, h);
  ASSERT_TRUE(decided && !*decided);
  EXPECT_EQ(decided->error().message,
            "Rate limit reached: key key_a (tenant acme) allows 3 requests per minute; try "
            "again in 19s.");
}

// count_tokens and route explain lease from a bucket of their own (kAuxiliary, its own Redis
// hash), the size of requests_per_minute: an exhausted generation lease does not refuse them, and
// theirs does not refuse generation. No budget is asked for.
TEST(SharedLimiterTest, AuxiliaryRequestsLeaseFromTheirOwnBucket) {
  struct Case {
    const char* name;
    Admission first;   // leases its bucket's grant, then exhausts it
    Admission second;  // still asks its own bucket
  };
  const Case cases[] = {
      {"generation spent, counting asks its own", Admission::kGeneration, Admission::kAuxiliary},
      {"counting spent, generation asks its own", Admission::kAuxiliary, Admission::kGeneration},
  };
  const auto kind_of = [](Admission a) {
    return a == Admission::kAuxiliary ? SharedCall::Kind::kAuxiliary : SharedCall::Kind::kRequests;
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    Policy p = Rpm(60);
    p.budgets.usd_per_day = Usd("1");
    Fixture f(p);
    std::vector<SharedCall> calls;
    RateHeaders h;
    ASSERT_FALSE(SharedAdmit(f.key(), kNow, kPercent, false, calls, h, c.first));
    // Its lease first; generation also asks for a share of the budget, counting does not.
    ASSERT_EQ(calls.size(), c.first == Admission::kGeneration ? 2u : 1u);
    EXPECT_EQ(calls[0].kind, kind_of(c.first));
    EXPECT_EQ(calls[0].limit, 60);
    f.Answer(calls, {.grant = 1, .remaining = 0, .wait_ms = 1'000, .full_ms = 60'000});
    auto decided = SharedAdmit(f.key(), kNow, kPercent, false, calls, h, c.first);
    ASSERT_TRUE(decided && *decided);
    // Its lease is spent: the last round refuses it, with its own wait.
    decided = SharedAdmit(f.key(), kNow, kPercent, true, calls, h, c.first);
    ASSERT_TRUE(decided && !*decided);
    EXPECT_EQ(decided->error().reason,
              c.first == Admission::kAuxiliary ? "auxiliary_requests" : "requests");
    // The other bucket is untouched: it asks for its own lease.
    calls.clear();
    ASSERT_FALSE(SharedAdmit(f.key(), kNow, kPercent, false, calls, h, c.second));
    ASSERT_FALSE(calls.empty());
    EXPECT_EQ(calls[0].kind, kind_of(c.second));
  }
}

TEST(SharedLimiterTest, AnEmptyAuxiliaryBucketRefusesInItsOwnWords) {
  Fixture f(Rpm(3));
  std::vector<SharedCall> calls;
  RateHeaders h;
  ASSERT_FALSE(SharedAdmit(f.key(), kNow, kPercent, false, calls, h, Admission::kAuxiliary));
  f.Answer(calls, {.grant = 0, .remaining = 0, .wait_ms = 19'000, .full_ms = 60'000});
  h = {};
  auto decided = SharedAdmit(f.key(), kNow, kPercent, true, calls, h, Admission::kAuxiliary);
  ASSERT_TRUE(decided && !*decided);
  EXPECT_EQ(
      decided->error().message,
      "Rate limit reached: key key_a (tenant acme) allows 3 token counts, route "
      "explanations, feedback, reports and stored-response calls per minute; try again in 19s.");
  EXPECT_EQ(decided->error().retry_after, std::chrono::seconds(19));
  ASSERT_TRUE(h.requests);
  EXPECT_EQ(h.requests->remaining, 0);
  EXPECT_EQ(h.requests->reset_ms, 60'000);
  EXPECT_FALSE(h.tokens);
  // Lapsed auxiliary units go back to their bucket at the next report, as request units do.
  Account& key = f.account();
  key.shared_auxiliary = {.units = 2, .valid_until_ms = kNow};
  calls.clear();
  ReportCalls(key, f.key().policy, false, kNow, 0, false, calls);
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].kind, SharedCall::Kind::kAuxiliary);
  TakeReport(key, kNow, calls[0]);
  EXPECT_EQ(calls[0].debit, -2);
}

TEST(SharedLimiterTest, TokenDebtsArePaidAtTheNextReport) {
  Policy p;
  p.limits.tokens_per_minute = 1'000;
  Fixture f(p);
  std::vector<SharedCall> calls;
  RateHeaders h;
  ASSERT_FALSE(SharedAdmit(f.key(), kNow, kPercent, false, calls, h));
  f.Answer(calls, {.grant = 50, .remaining = 950});
  ASSERT_TRUE(SharedAdmit(f.key(), kNow, kPercent, false, calls, h).value());
  SharedSettle(f.key(), {}, {}, 180, kNow, kNow);
  EXPECT_EQ(f.account().shared_tokens.units, -130);
  calls.clear();
  ReportCalls(f.account(), f.key().policy, false, kNow, 0, false, calls);
  ASSERT_EQ(calls.size(), 1u);
  TakeReport(f.account(), kNow, calls[0]);
  EXPECT_EQ(calls[0].debit, 130);
  EXPECT_EQ(f.account().shared_tokens.units, 0);
  GiveBack(f.account(), calls[0]);  // Redis failed: the debt is still owed
  EXPECT_EQ(f.account().shared_tokens.units, -130);
}

TEST(SharedLimiterTest, ReportsCarrySpendOnceAndGiveItBackOnFailure) {
  Fixture f(DailyBudget("5"));
  std::vector<SharedCall> calls;
  RateHeaders h;
  ASSERT_FALSE(SharedAdmit(f.key(), kNow, kPercent, false, calls, h));
  f.Answer(calls, {.grant = 1'000, .spent = 0});
  SharedSettle(f.key(), {}, Usd("0.0000004"), 0, kNow, kNow);
  calls.clear();
  ReportCalls(f.account(), f.key().policy, false, kNow, 0, false, calls);
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].want, 0);
  SharedCall first = calls[0];
  TakeReport(f.account(), kNow, first);
  EXPECT_EQ(first.delta, 400);
  EXPECT_EQ(first.hold, 600);
  // A second call made before the first returns carries nothing twice.
  SharedCall second = calls[0];
  TakeReport(f.account(), kNow, second);
  EXPECT_EQ(second.delta, 0);
  GiveBack(f.account(), first);
  EXPECT_EQ(f.account().shared_day.unreported, 400);
  // Nothing to report and a hold far from lapsing: no call.
  f.account().shared_day.unreported = 0;
  calls.clear();
  ReportCalls(f.account(), f.key().policy, false, kNow, 100, false, calls);
  EXPECT_TRUE(calls.empty());
  // Shutting down gives the hold back.
  ReportCalls(f.account(), f.key().policy, false, kNow, 100, true, calls);
  ASSERT_EQ(calls.size(), 1u);
  TakeReport(f.account(), kNow, calls[0]);
  EXPECT_EQ(calls[0].hold, 0);
}

// A report planned before midnight and sent after it carries the new day's spend to the new
// day's total, and leaves the window in the new day.
TEST(SharedLimiterTest, ACallPlannedBeforeMidnightReportsTheNewDay) {
  Fixture f(DailyBudget("5"));
  std::vector<SharedCall> calls;
  RateHeaders h;
  ASSERT_FALSE(SharedAdmit(f.key(), kNow, kPercent, false, calls, h));
  f.Answer(calls, {.grant = 1'000, .spent = 0});
  calls.clear();
  ReportCalls(f.account(), f.key().policy, false, kNow, 100, true, calls);
  ASSERT_EQ(calls.size(), 1u);
  const int64_t tomorrow = kNow + 86'400'000;
  SharedSettle(f.key(), {}, Usd("0.0000004"), 0, tomorrow, tomorrow);
  const int64_t day = PeriodIndex(Period::kDay, tomorrow);
  ASSERT_EQ(f.account().shared_day.index, day);
  TakeReport(f.account(), tomorrow, calls[0]);
  EXPECT_EQ(calls[0].index, day);
  EXPECT_EQ(calls[0].delta, 400);
  EXPECT_EQ(f.account().shared_day.index, day);
}

// A request received before midnight that settles after another request started the new day:
// its reservation is released, and its cost counts in neither the new day's allowance nor its
// local window (the ledger, and a seed, count it in the day it was received).
TEST(SharedLimiterTest, ARequestReceivedBeforeMidnightIsNotChargedToTheNextDay) {
  Fixture f(DailyBudget("5"));
  std::vector<SharedCall> calls;
  RateHeaders h;
  const int64_t midnight = PeriodStartMs(Period::kDay, kDay + 1);
  const int64_t received = midnight - 100;
  ASSERT_FALSE(SharedAdmit(f.key(), received, kPercent, false, calls, h));
  f.Answer(calls, {.grant = 1'000'000, .spent = 0}, received);
  ASSERT_TRUE(SharedReserve(f.key(), Usd("0.0002"), received, false));
  // After midnight another request starts the new day, with a grant of its own.
  ASSERT_FALSE(SharedAdmit(f.key(), midnight + 10, kPercent, false, calls, h));
  f.Answer(calls, {.grant = 1'000'000, .spent = 0}, midnight + 10);
  ASSERT_EQ(f.account().shared_day.index, kDay + 1);
  SharedSettle(f.key(), Usd("0.0002"), Usd("0.0001"), 0, received, midnight + 500);
  EXPECT_EQ(f.account().shared_day.reserved_pico, 0);
  EXPECT_EQ(f.account().shared_day.unreported, 0);
  EXPECT_EQ(f.account().shared_day.granted, 1'000'000);
  EXPECT_EQ(f.account().day.index, kDay + 1);
  EXPECT_EQ(f.account().day.reserved_pico, 0);
  EXPECT_EQ(f.account().day.spent_pico, 0);
}

TEST(SharedLimiterTest, RequestsThatFindTheAllowanceEmptyTogetherTakeOneGrant) {
  Policy p = Rpm(1'000'000);
  p.budgets.usd_per_day = Usd("100");
  Fixture f(p);
  RateHeaders h;
  // Two requests plan their calls before either is sent (two workers, one Redis thread).
  std::vector<SharedCall> first;
  std::vector<SharedCall> second;
  ASSERT_FALSE(SharedAdmit(f.key(), kNow, kPercent, false, first, h));
  ASSERT_FALSE(SharedAdmit(f.key(), kNow, kPercent, false, second, h));
  ASSERT_EQ(first.size(), 2u);
  ASSERT_EQ(second.size(), 2u);
  f.Answer(first, {.grant = 50'000, .remaining = 950'000});
  // The second, sent after the first's grants were applied, asks for nothing more.
  for (SharedCall& call : second) {
    TakeReport(f.account(), kNow, call);
    EXPECT_EQ(call.want, 0) << static_cast<int>(call.kind);
  }
}

TEST(SharedLimiterTest, OnlyAnAllowanceInUseIsRenewed) {
  Fixture f(DailyBudget("5"));
  std::vector<SharedCall> calls;
  RateHeaders h;
  ASSERT_FALSE(SharedAdmit(f.key(), kNow, kPercent, false, calls, h));
  f.Answer(calls, {.grant = 1'000, .spent = 0});
  const int64_t lapses = f.account().shared_day.valid_until_ms;
  ASSERT_EQ(lapses, kNow + kHoldMs - kHoldMs / 5);
  ASSERT_TRUE(SharedAdmit(f.key(), kNow + 100, kPercent, false, calls, h).value());
  // Due for renewal (within the horizon), used 100 ms after the grant: renewed.
  calls.clear();
  ReportCalls(f.account(), f.key().policy, false, lapses - 500, 1'000, false, calls);
  EXPECT_EQ(calls.size(), 1u);
  // Not used for kHoldMs: left to lapse, so other replicas can have it.
  calls.clear();
  ReportCalls(f.account(), f.key().policy, false, kNow + 100 + kHoldMs, 1'000'000, false, calls);
  EXPECT_TRUE(calls.empty());
}

TEST(SharedLimiterTest, EstimatesReserveFromTheAllowanceOrRefuse) {
  Fixture f(DailyBudget("5"));
  std::vector<SharedCall> calls;
  SharedPrepare(f.key(), Usd("0.3"), kNow, kPercent, calls);
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].need, 300'000'000);
  EXPECT_EQ(calls[0].want, 300'000'000);  // more than 5% of $5
  f.Answer(calls, {.grant = 300'000'000, .spent = 0});
  SharedPrepare(f.key(), Usd("0.3"), kNow, kPercent, calls);
  EXPECT_TRUE(calls.empty());
  // Half of a larger worst case already in hand: only the other half is needed from Redis, and
  // a call queued behind one that covered it all wants nothing.
  SharedPrepare(f.key(), Usd("0.6"), kNow, kPercent, calls);
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].need, 300'000'000);
  EXPECT_EQ(calls[0].cover, 600'000'000);
  f.account().shared_day.granted += 300'000'000;
  TakeReport(f.account(), kNow, calls[0]);
  EXPECT_EQ(calls[0].want, 0);
  GiveBack(f.account(), calls[0]);
  f.account().shared_day.granted -= 300'000'000;
  ASSERT_TRUE(SharedReserve(f.key(), Usd("0.3"), kNow, false));
  auto refused = SharedReserve(f.key(), Usd("0.01"), kNow, false);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, core::Errc::kBudgetExceeded);
  SharedSettle(f.key(), Usd("0.3"), Usd("0.1"), 0, kNow, kNow);
  EXPECT_EQ(f.account().shared_day.reserved_pico, 0);
  EXPECT_EQ(f.account().day.reserved_pico, 0);
  EXPECT_TRUE(SharedReserve(f.key(), Usd("0.2"), kNow, false));
  // fail_open: the local window decides ($0.1 spent, $0.2 reserved of $5).
  EXPECT_TRUE(SharedReserve(f.key(), Usd("4.7"), kNow, true));
  EXPECT_FALSE(SharedReserve(f.key(), Usd("0.01"), kNow, true));
}

// Regression: each attempt's reservation was rounded up to the nano-dollar on its own, and the
// settlement released the request's total rounded up once, so a k-attempt request at a price
// with sub-nano-dollar token costs (four or more decimals per million tokens) left up to k - 1
// nano-dollars reserved for good, shrinking the allowance a little with every request.
TEST(SharedLimiterTest, AThreeAttemptRequestReleasesExactlyWhatItReserved) {
  const struct {
    const char* usd_per_m;
    int64_t worst_case_tokens[3];  // each attempt's reservation
    int64_t used_tokens[3];        // what each attempt cost
    int64_t held_nano;             // the request's reservations: their exact sum, rounded up
    int64_t spent_nano;            // its cost: the exact sum, rounded up
  } cases[] = {
      {"0.0375", {1, 1, 1}, {1, 0, 1}, 113, 75},                   // 3 x 37.5 = 112.5
      {"0.0123", {1, 1, 1}, {1, 1, 1}, 37, 37},                    // 3 x 12.3 = 36.9
      {"0.000001", {100, 100, 100}, {100, 0, 100}, 1, 1},          // 3 x 0.1 = 0.3
      {"37.5", {3, 5, 7}, {3, 0, 7}, 562'500, 375'000},            // $0.0000375 a token
      {"0.0375", {1'001, 2'001, 3'001}, {7, 0, 9}, 225'113, 600},  // 225112.5; 600
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.usd_per_m);
    const core::PricePerMTokens price = *core::PricePerMTokens::Parse(c.usd_per_m);
    Fixture f(DailyBudget("5"));
    std::vector<SharedCall> calls;
    RateHeaders h;
    ASSERT_FALSE(SharedAdmit(f.key(), kNow, kPercent, false, calls, h));
    f.Answer(calls, {.grant = 1'000'000'000, .spent = 0});
    const BudgetAllowance& w = f.account().shared_day;
    core::Money reserved;
    core::Money cost;
    for (int i = 0; i < 3; ++i) {
      const core::Money worst_case = price.CostOf(c.worst_case_tokens[i]);
      ASSERT_TRUE(SharedReserve(f.key(), worst_case, kNow, false)) << i;
      reserved += worst_case;
      cost += price.CostOf(c.used_tokens[i]);
    }
    EXPECT_EQ(Spendable(w, kNow), 1'000'000'000 - c.held_nano);
    SharedSettle(f.key(), reserved, cost, 0, kNow, kNow);
    EXPECT_EQ(w.unreported, c.spent_nano);
    EXPECT_EQ(Spendable(w, kNow), 1'000'000'000 - c.spent_nano);  // nothing left reserved
    EXPECT_EQ(f.account().day.reserved_pico, 0);
  }
}

TEST(SharedLimiterTest, WithoutLimitsNothingIsShared) {
  Fixture f(Policy{});
  EXPECT_FALSE(HasLimits(f.key()));
  Fixture g(Policy{}, Rpm(1));
  EXPECT_TRUE(HasLimits(g.key()));
}

}  // namespace
}  // namespace sy::limits
