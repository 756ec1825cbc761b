#include "limits/budget.h"

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

}  // namespace
}  // namespace sy::limits
