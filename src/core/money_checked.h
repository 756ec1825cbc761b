// Checked Money arithmetic, for figures outside the request path (reports, `switchyard eval` and
// `router eval`) where nothing bounds the inputs: costs read back from headers or a ledger, prices
// given on the command line. Each returns the exact result, or nullopt when it passes the int64
// range of pico-dollars (about +/- 9.2 million USD), so a report shows an exact figure or says it
// cannot, never a wrapped one. Money's own operators are unchecked; the request path saturates
// instead (core/saturating.h, catalog/cost.cpp), since a request must still be answered.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <limits>
#include <optional>

#include "core/money.h"

namespace sy::core {

// The largest Money (9223372.036854775807 USD): what the errors of a sum past it name.
inline constexpr Money kLargestMoney = Money::FromPico(std::numeric_limits<int64_t>::max());

inline std::optional<Money> CheckedAdd(Money a, Money b) {
  int64_t pico = 0;
  if (__builtin_add_overflow(a.pico(), b.pico(), &pico)) return std::nullopt;
  return Money::FromPico(pico);
}

inline std::optional<Money> CheckedSubtract(Money a, Money b) {
  int64_t pico = 0;
  if (__builtin_sub_overflow(a.pico(), b.pico(), &pico)) return std::nullopt;
  return Money::FromPico(pico);
}

inline std::optional<Money> CheckedMultiply(Money m, int64_t n) {
  int64_t pico = 0;
  if (__builtin_mul_overflow(m.pico(), n, &pico)) return std::nullopt;
  return Money::FromPico(pico);
}

// The exact cost of `tokens` tokens at `price` (PricePerMTokens::CostOf, checked).
inline std::optional<Money> CheckedCostOf(PricePerMTokens price, int64_t tokens) {
  int64_t pico = 0;
  if (__builtin_mul_overflow(tokens, price.micro(), &pico)) return std::nullopt;
  return Money::FromPico(pico);
}

}  // namespace sy::core
