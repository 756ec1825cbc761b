#include "limits/rate.h"

#include <algorithm>

namespace sy::limits {
namespace {

__extension__ using Wide = __int128;

}  // namespace

void Refill(Bucket& b, int64_t per_minute, int64_t now_ms) {
  const int64_t capacity = per_minute * kSubUnits;
  if (!b.primed) {
    b = Bucket{capacity, now_ms, true};
    return;
  }
  if (now_ms <= b.at_ms) return;  // the clock went back: keep the level
  const int64_t elapsed = now_ms - b.at_ms;
  // Two minutes fill any bucket, one in a minute's debt (Debit's floor) too; in 128 bits, as
  // capacity itself may be near int64's largest.
  const Wide gain = Wide{std::min(elapsed, 2 * kSubUnits)} * per_minute;
  b.level = static_cast<int64_t>(std::min<Wide>(capacity, b.level + gain));
  b.at_ms = now_ms;
}

bool TryTake(Bucket& b, int64_t per_minute, int64_t units, int64_t now_ms) {
  Refill(b, per_minute, now_ms);
  if (b.level < units * kSubUnits) return false;
  b.level -= units * kSubUnits;
  return true;
}

void Debit(Bucket& b, int64_t per_minute, int64_t units, int64_t now_ms) {
  Refill(b, per_minute, now_ms);
  // A debt of more than a minute's worth is forgiven past that: one huge request must not
  // lock a key out for hours.
  // In 128 bits: `units` is what the upstream reported, any int64.
  const Wide level =
      std::max<Wide>(Wide{-per_minute} * kSubUnits, Wide{b.level} - Wide{units} * kSubUnits);
  b.level = static_cast<int64_t>(level);
}

int64_t Remaining(const Bucket& b) { return std::max<int64_t>(0, b.level / kSubUnits); }

int64_t MsUntil(const Bucket& b, int64_t per_minute, int64_t units) {
  const int64_t missing = units * kSubUnits - b.level;
  if (missing <= 0 || per_minute <= 0) return 0;
  return (missing + per_minute - 1) / per_minute;
}

int64_t MsUntilFull(const Bucket& b, int64_t per_minute) {
  return MsUntil(b, per_minute, per_minute);
}

}  // namespace sy::limits
