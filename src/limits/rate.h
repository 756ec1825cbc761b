// Rate limits as token buckets in exact integer arithmetic: pure functions over a plain
// Bucket, so the decisions are table-tested without a clock.
//
// A limit of N per minute is a bucket of capacity N that refills N/60 per second. Levels are
// kept in "unit-milliseconds" (1 unit = 60'000 sub-units) so that refilling N per 60'000 ms is
// exactly N sub-units per millisecond: no rounding, whatever N is.
#pragma once

#include <cstdint>

namespace sy::limits {

inline constexpr int64_t kSubUnits = 60'000;

struct Bucket {
  int64_t level = 0;    // sub-units; may go negative when tokens are debited after the fact
  int64_t at_ms = 0;    // when `level` was last brought up to date
  bool primed = false;  // a new bucket starts full
};

// Brings `b` up to `now_ms` at `per_minute` (full the first time).
void Refill(Bucket& b, int64_t per_minute, int64_t now_ms);

// Takes `units` when the bucket holds them (after refilling); false and untouched otherwise.
bool TryTake(Bucket& b, int64_t per_minute, int64_t units, int64_t now_ms);

// Takes `units` whatever the level (tokens are known only after a request ends).
void Debit(Bucket& b, int64_t per_minute, int64_t units, int64_t now_ms);

// Whole units left (0 when empty or in debt).
int64_t Remaining(const Bucket& b);

// Milliseconds until the bucket holds `units` again (0 when it does).
int64_t MsUntil(const Bucket& b, int64_t per_minute, int64_t units);

// Milliseconds until the bucket is full again: OpenAI's x-ratelimit-reset-*.
int64_t MsUntilFull(const Bucket& b, int64_t per_minute);

}  // namespace sy::limits
