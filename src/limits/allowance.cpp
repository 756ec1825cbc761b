#include "limits/allowance.h"

#include <algorithm>

namespace sy::limits {
namespace {

constexpr int64_t kPicoPerNano = 1'000;

}  // namespace

int64_t NanoCeil(core::Money m) {
  const int64_t pico = m.pico();
  return pico / kPicoPerNano + (pico % kPicoPerNano > 0 ? 1 : 0);
}

int64_t NanoFloor(core::Money m) {
  const int64_t pico = m.pico();
  return pico / kPicoPerNano - (pico % kPicoPerNano < 0 ? 1 : 0);
}

core::Money FromNano(int64_t nano) { return core::Money::FromPico(nano * kPicoPerNano); }

void RollAllowance(BudgetAllowance& a, int64_t index) {
  // Never back: a request received before midnight may reserve after it, when the window
  // already holds the new period's unreported spend and hold.
  if (index <= a.index) return;
  a = BudgetAllowance{.index = index, .reserved_pico = a.reserved_pico};
}

int64_t Spendable(const BudgetAllowance& a, int64_t now_ms) {
  if (now_ms >= a.valid_until_ms) return 0;
  return a.granted - NanoCeil(core::Money::FromPico(a.reserved_pico));
}

bool Covers(const BudgetAllowance& a, int64_t need, int64_t now_ms) {
  return Spendable(a, now_ms) >= std::max<int64_t>(need, 1);
}

int64_t BudgetWant(int64_t limit, const BudgetAllowance& a, int64_t need, int allowance_percent) {
  const int64_t remaining = std::max<int64_t>(0, limit - a.shared_spent - a.unreported);
  // remaining / 100 * percent: no overflow for any int64 limit.
  const int64_t share =
      remaining / 100 * allowance_percent + remaining % 100 * allowance_percent / 100;
  return std::max<int64_t>({need, share, 1});
}

int64_t RateWant(int64_t per_minute, int allowance_percent) {
  return std::max<int64_t>(
      1, per_minute / 100 * allowance_percent + per_minute % 100 * allowance_percent / 100);
}

int64_t Usable(const RateLease& l, int64_t now_ms) {
  if (l.units < 0) return l.units;
  return now_ms < l.valid_until_ms ? l.units : 0;
}

int64_t Settling(const RateLease& l, int64_t now_ms) {
  if (l.units < 0) return -l.units;
  if (l.units > 0 && now_ms >= l.valid_until_ms) return -l.units;
  return 0;
}

}  // namespace sy::limits
