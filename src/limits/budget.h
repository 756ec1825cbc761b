// Budgets over UTC calendar days and months: pure functions over a plain Window, so every
// decision is table-tested with fixed times.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "core/money.h"

namespace sy::limits {

enum class Period { kDay, kMonth };

// "daily" / "monthly", as messages say it.
std::string_view PeriodAdjective(Period period);
// "day" / "month": metric labels and JSON.
std::string_view PeriodName(Period period);

// Which UTC day (days since 1970-01-01) or month (months since 1970-01) holds `unix_ms`.
int64_t PeriodIndex(Period period, int64_t unix_ms);
// When that period starts, in unix milliseconds; it ends where index + 1 starts.
int64_t PeriodStartMs(Period period, int64_t index);

// One period's spend: committed cost and what attempts in flight have reserved.
struct Window {
  int64_t index = -1;  // the period it counts; -1: not started
  int64_t spent_pico = 0;
  int64_t reserved_pico = 0;
};

// Reservations (budget_check estimate): what attempts in flight hold in a window (and in a shared
// allowance, limits/allowance.h) until their request settles. Holding adds, held at INT64_MAX;
// releasing subtracts, held at 0; a negative amount counts as 0. The rule this keeps, whatever
// the order of holds and releases and even once a sum saturated: a window never holds more than
// the estimates still in flight, never less than 0, and exactly 0 once every one was released.
// A saturated sum drops what passed INT64_MAX, so releasing an estimate afterwards takes back
// more than that estimate added, and the floor at 0 absorbs the difference: no residue and no
// negative reservation, at the cost of under-counting what stays in flight after such a release.
// That is reached only past 9.2 million USD of worst cases in flight: reservations are checked
// against a budget before they are held, so only a window without a limit (a tenant without a
// budget, whose keys have theirs) or with a limit of INT64_MAX pico-dollars gets there.
int64_t HoldReservation(int64_t reserved_pico, int64_t estimate_pico);
int64_t ReleaseReservation(int64_t reserved_pico, int64_t estimate_pico);

// Starts a new period (zero spend, reservations kept: they belong to requests still running)
// when `now_ms` is past the window's.
void Roll(Window& w, Period period, int64_t now_ms);

// Adds a request's cost to the window if the request was received (`received_ms`) in the
// window's period, starting that period first when it is new. A request received in a period the
// window has already left (it spanned midnight, and a later request started the new day) counts
// nowhere here: the ledger and the seed at the next start count it in its own, ended, period.
void Charge(Window& w, Period period, int64_t received_ms, int64_t cost_pico);

// Why a budget refuses a request.
struct Overrun {
  Period period = Period::kDay;
  core::Money limit;
  core::Money spent;
  core::Money reserved;
  std::optional<core::Money> estimate;  // budget_check estimate: what the attempt could cost
  core::Money held_elsewhere;  // shared_state: what other replicas' allowances hold of the rest
  int64_t resets_at_ms = 0;
};

// The decision for one window (already rolled). Without an estimate (budget_check after, or
// the admission before any attempt), a window refuses once its spend has reached the limit.
// With one, it refuses when spent + reserved + estimate would pass the limit.
// No limit: never refuses.
std::optional<Overrun> CheckWindow(const Window& w, Period period,
                                   const std::optional<core::Money>& limit,
                                   const std::optional<core::Money>& estimate);

}  // namespace sy::limits
