// Saturating integer arithmetic for token counts and pico-dollar sums: an upstream can report any
// non-negative int64 count, and a sum must pin at the largest value instead of overflowing
// (undefined behaviour).
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <limits>

namespace sy::core {

// a + b, pinned to the int64 range.
inline int64_t SaturatingAdd(int64_t a, int64_t b) {
  int64_t sum = 0;
  if (!__builtin_add_overflow(a, b, &sum)) return sum;
  return b > 0 ? std::numeric_limits<int64_t>::max() : std::numeric_limits<int64_t>::min();
}

// a * b, pinned to the int64 range.
inline int64_t SaturatingMul(int64_t a, int64_t b) {
  int64_t product = 0;
  if (!__builtin_mul_overflow(a, b, &product)) return product;
  return (a < 0) == (b < 0) ? std::numeric_limits<int64_t>::max()
                            : std::numeric_limits<int64_t>::min();
}

}  // namespace sy::core
