#include "limits/budget.h"

#include <limits>
#include <vector>

#include <gtest/gtest.h>

namespace sy::limits {
namespace {

constexpr int64_t kDec2_2026_10h = 1'796'205'600'000;  // 2026-12-02T10:00:00Z

core::Money Usd(std::string_view s) { return *core::Money::Parse(s); }

TEST(BudgetTest, PeriodsAreUtcCalendarDaysAndMonths) {
  EXPECT_EQ(PeriodStartMs(Period::kDay, PeriodIndex(Period::kDay, kDec2_2026_10h)),
            1'796'169'600'000);  // 2026-12-02T00:00:00Z
  EXPECT_EQ(PeriodStartMs(Period::kDay, PeriodIndex(Period::kDay, kDec2_2026_10h) + 1),
            1'796'256'000'000);  // 2026-12-03
  const int64_t month = PeriodIndex(Period::kMonth, kDec2_2026_10h);
  EXPECT_EQ(month, (2026 - 1970) * 12 + 11);
  EXPECT_EQ(PeriodStartMs(Period::kMonth, month), 1'796'083'200'000);      // 2026-12-01
  EXPECT_EQ(PeriodStartMs(Period::kMonth, month + 1), 1'798'761'600'000);  // 2027-01-01
  // 2028-02-29 (leap day) is in February.
  EXPECT_EQ(PeriodIndex(Period::kMonth, 1'835'395'200'000), (2028 - 1970) * 12 + 1);
  EXPECT_EQ(PeriodIndex(Period::kDay, -1), -1);  // before 1970 rounds down, not to zero
}

TEST(BudgetTest, RollZeroesSpendInANewPeriodAndKeepsReservations) {
  Window w{PeriodIndex(Period::kDay, kDec2_2026_10h), 500, 70};
  Roll(w, Period::kDay, kDec2_2026_10h + 3'600'000);
  EXPECT_EQ(w.spent_pico, 500);
  Roll(w, Period::kDay, kDec2_2026_10h + 86'400'000);
  EXPECT_EQ(w.spent_pico, 0);
  EXPECT_EQ(w.reserved_pico, 70);
}

// A request's cost counts in the day it was received, as the ledger and the seed count it; a
// window that has already moved on to the next day does not take it.
TEST(BudgetTest, ChargeCountsACostInThePeriodTheRequestWasReceivedIn) {
  const int64_t day = PeriodIndex(Period::kDay, kDec2_2026_10h);
  const int64_t midnight = PeriodStartMs(Period::kDay, day + 1);
  const struct {
    const char* name;
    int64_t window_day;
    int64_t received_ms;
    int64_t day_after;
    int64_t spent_after;
  } cases[] = {
      {"received in the window's day", day, kDec2_2026_10h, day, 1'500},
      {"received at 23:59:59.9, the window still in that day", day, midnight - 100, day, 1'500},
      {"received at 23:59:59.9, the window already in the next", day + 1, midnight - 100, day + 1,
       500},
      {"received in a new day: the window starts it", day, midnight, day + 1, 1'000},
  };
  for (const auto& c : cases) {
    Window w{c.window_day, 500, 70};
    Charge(w, Period::kDay, c.received_ms, 1'000);
    EXPECT_EQ(w.index, c.day_after) << c.name;
    EXPECT_EQ(w.spent_pico, c.spent_after) << c.name;
    EXPECT_EQ(w.reserved_pico, 70) << c.name;
  }
}

struct Case {
  const char* name;
  const char* spent;
  const char* reserved;
  std::optional<const char*> estimate;
  bool refused;
};

TEST(BudgetTest, CheckWindowTable) {
  const Case cases[] = {
      {"after: under", "0.0099", "0", std::nullopt, false},
      {"after: at the limit", "0.01", "0", std::nullopt, true},
      {"after: reservations do not count", "0.005", "0.009", std::nullopt, false},
      {"estimate: fits exactly", "0.004", "0.003", "0.003", false},
      {"estimate: one pico over", "0.004", "0.003", "0.003000000001", true},
      {"estimate: reservations count", "0", "0.0095", "0.001", true},
  };
  for (const auto& c : cases) {
    const Window w{PeriodIndex(Period::kDay, kDec2_2026_10h), Usd(c.spent).pico(),
                   Usd(c.reserved).pico()};
    std::optional<core::Money> estimate;
    if (c.estimate) estimate = Usd(*c.estimate);
    auto o = CheckWindow(w, Period::kDay, Usd("0.01"), estimate);
    EXPECT_EQ(o.has_value(), c.refused) << c.name;
    if (o) {
      EXPECT_EQ(o->resets_at_ms, 1'796'256'000'000) << c.name;
      EXPECT_EQ(o->limit, Usd("0.01"));
    }
  }
  EXPECT_FALSE(
      CheckWindow(Window{0, 1'000'000'000'000, 0}, Period::kDay, std::nullopt, std::nullopt));
}

// One step of a reservation table: hold (+) or release (-) `pico`, then the window holds `want`.
struct Step {
  char op;
  int64_t pico;
  int64_t want;
};

struct ReservationCase {
  const char* name;
  std::vector<Step> steps;
};

// Regression: reservations were added with a plain +=, which overflowed (undefined behaviour)
// once the estimates in flight passed INT64_MAX pico-dollars. The rule (budget.h): holds saturate,
// releases stop at 0, and whatever the order every release together brings the window back to 0.
TEST(BudgetTest, ReservationTable) {
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  const ReservationCase cases[] = {
      {"exact below the limit", {{'+', 5, 5}, {'+', 7, 12}, {'-', 5, 7}, {'-', 7, 0}}},
      {"a release of more than is held stops at 0", {{'+', 3, 3}, {'-', 5, 0}, {'-', 1, 0}}},
      {"a negative amount counts as 0", {{'+', -4, 0}, {'+', 2, 2}, {'-', -9, 2}, {'-', 2, 0}}},
      {"the largest estimate alone is exact", {{'+', kMax, kMax}, {'-', kMax, 0}}},
      {"an add past INT64_MAX holds there",
       {{'+', kMax - 1, kMax - 1},
        {'+', 5, kMax},
        {'+', 1, kMax},
        {'-', 1, kMax - 1},
        {'-', 5, kMax - 6},
        {'-', kMax - 1, 0}}},
      // Releasing what saturated it takes back more than it added (4 of its 5 were dropped):
      // the rest under-counts until released, and the floor absorbs what it lacks.
      {"the saturating estimate released first",
       {{'+', kMax - 1, kMax - 1}, {'+', 5, kMax}, {'-', 5, kMax - 5}, {'-', kMax - 1, 0}}},
      {"the saturating estimate released last",
       {{'+', kMax - 1, kMax - 1}, {'+', 5, kMax}, {'-', kMax - 1, 1}, {'-', 5, 0}}},
      {"two of the largest",
       {{'+', kMax, kMax}, {'+', kMax, kMax}, {'-', kMax, 0}, {'-', kMax, 0}}},
      {"interleaved past the limit",
       {{'+', kMax / 2, kMax / 2},
        {'+', kMax / 2, kMax - 1},
        {'+', 10, kMax},
        {'-', kMax / 2, kMax - kMax / 2},
        {'+', 3, kMax - kMax / 2 + 3},
        {'-', 10, kMax - kMax / 2 - 7},
        {'-', kMax / 2, 0},
        {'-', 3, 0}}},
  };
  for (const ReservationCase& c : cases) {
    int64_t reserved = 0;
    for (size_t i = 0; i < c.steps.size(); ++i) {
      const Step& step = c.steps[i];
      reserved = step.op == '+' ? HoldReservation(reserved, step.pico)
                                : ReleaseReservation(reserved, step.pico);
      EXPECT_EQ(reserved, step.want) << c.name << ", step " << i;
    }
    EXPECT_EQ(reserved, 0) << c.name << ": every estimate released";
  }
}

}  // namespace
}  // namespace sy::limits
