#include "limits/budget.h"

#include <algorithm>
#include <chrono>

#include "core/saturating.h"

namespace sy::limits {
namespace {

constexpr int64_t kMsPerDay = 86'400'000;

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

}  // namespace

std::string_view PeriodAdjective(Period period) {
  return period == Period::kDay ? "daily" : "monthly";
}

std::string_view PeriodName(Period period) { return period == Period::kDay ? "day" : "month"; }

int64_t PeriodIndex(Period period, int64_t unix_ms) {
  const int64_t day = FloorDiv(unix_ms, kMsPerDay);
  if (period == Period::kDay) return day;
  const std::chrono::year_month_day ymd{std::chrono::sys_days{std::chrono::days{day}}};
  return (static_cast<int>(ymd.year()) - 1970) * 12 +
         static_cast<int64_t>(static_cast<unsigned>(ymd.month())) - 1;
}

int64_t PeriodStartMs(Period period, int64_t index) {
  if (period == Period::kDay) return index * kMsPerDay;
  const auto year = std::chrono::year{static_cast<int>(1970 + FloorDiv(index, 12))};
  const auto month =
      std::chrono::month{static_cast<unsigned>(index - FloorDiv(index, 12) * 12 + 1)};
  const std::chrono::sys_days first{year / month / std::chrono::day{1}};
  return static_cast<int64_t>(first.time_since_epoch().count()) * kMsPerDay;
}

void Roll(Window& w, Period period, int64_t now_ms) {
  const int64_t index = PeriodIndex(period, now_ms);
  if (index <= w.index) return;
  w.index = index;
  w.spent_pico = 0;
}

void Charge(Window& w, Period period, int64_t received_ms, int64_t cost_pico) {
  Roll(w, period, received_ms);
  if (w.index != PeriodIndex(period, received_ms)) return;
  // Saturating: an upstream can report any token count, and a saturated cost added to a window
  // must leave it spent, not wrap it negative.
  w.spent_pico = core::SaturatingAdd(w.spent_pico, cost_pico);
}

int64_t HoldReservation(int64_t reserved_pico, int64_t estimate_pico) {
  return core::SaturatingAdd(reserved_pico, std::max<int64_t>(estimate_pico, 0));
}

int64_t ReleaseReservation(int64_t reserved_pico, int64_t estimate_pico) {
  // Both non-negative: the difference cannot overflow.
  return std::max<int64_t>(0, reserved_pico - std::max<int64_t>(estimate_pico, 0));
}

std::optional<Overrun> CheckWindow(const Window& w, Period period,
                                   const std::optional<core::Money>& limit,
                                   const std::optional<core::Money>& estimate) {
  if (!limit) return std::nullopt;
  const int64_t committed = core::SaturatingAdd(w.spent_pico, w.reserved_pico);
  const bool over = estimate ? core::SaturatingAdd(committed, estimate->pico()) > limit->pico()
                             : w.spent_pico >= limit->pico();
  if (!over) return std::nullopt;
  Overrun o;
  o.period = period;
  o.limit = *limit;
  o.spent = core::Money::FromPico(w.spent_pico);
  o.reserved = core::Money::FromPico(w.reserved_pico);
  o.estimate = estimate;
  o.resets_at_ms = PeriodStartMs(period, w.index + 1);
  return o;
}

}  // namespace sy::limits
