// Exact money. No binary floating point anywhere near a price or a cost.
//
// Money is a signed count of pico-dollars (1e-12 USD) in an int64: exact for every per-token price
// written with up to six decimals per million tokens, and good for +/- 9.2 million USD per value.
// PricePerMTokens is USD per million tokens with up to six decimals, held as micro-USD per million
// tokens, so the cost of N tokens is exactly N * micro pico-dollars.
//
// Thread-safety: plain values.
#pragma once

#include <compare>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/result.h"

namespace sy::core {

class Money {
 public:
  static constexpr int64_t kPicoPerUsd = 1'000'000'000'000;

  constexpr Money() = default;
  static constexpr Money FromPico(int64_t pico_usd) { return Money(pico_usd); }

  // Parses a plain decimal USD amount: "12", "0.5", "-3.25", at most 12 fractional digits,
  // no exponent, no thousands separators. Fails with kInvalidRequest saying what is wrong.
  static Result<Money> Parse(std::string_view usd);

  constexpr int64_t pico() const { return pico_; }

  // The exact amount as the shortest decimal: "0", "0.5", "0.000123", "-1.25".
  std::string ToString() const;
  // Rounded half away from zero to whole cents, always two decimals: "12.35", "0.00".
  std::string ToCents() const;
  // Rounded half away from zero to `decimals` places (0..12), always that many: ToFixed(4) of
  // 0.00123456 is "0.0012".
  std::string ToFixed(int decimals) const;

  constexpr Money operator+(Money o) const { return Money(pico_ + o.pico_); }
  constexpr Money operator-(Money o) const { return Money(pico_ - o.pico_); }
  constexpr Money& operator+=(Money o) {
    pico_ += o.pico_;
    return *this;
  }
  constexpr auto operator<=>(const Money&) const = default;

 private:
  constexpr explicit Money(int64_t pico) : pico_(pico) {}
  int64_t pico_ = 0;
};

// `cost` / `n` rounded to the pico-dollar, half away from zero (a cost per request or per
// successful task). REQUIRES: n > 0.
Money DivideMoney(Money cost, int64_t n);

class PricePerMTokens {
 public:
  constexpr PricePerMTokens() = default;
  static constexpr PricePerMTokens FromMicro(int64_t micro_usd_per_m) {
    return PricePerMTokens(micro_usd_per_m);
  }

  // Parses a non-negative decimal USD-per-million-tokens price with at most 6 fractional digits
  // ("30", "0.014", "0.007"). Fails with kInvalidRequest saying what is wrong.
  static Result<PricePerMTokens> Parse(std::string_view usd_per_million);

  constexpr int64_t micro() const { return micro_; }
  // Exact cost of `tokens` tokens at this price. REQUIRES: tokens >= 0.
  constexpr Money CostOf(int64_t tokens) const { return Money::FromPico(tokens * micro_); }
  // "30", "0.014".
  std::string ToString() const;

  constexpr auto operator<=>(const PricePerMTokens&) const = default;

 private:
  constexpr explicit PricePerMTokens(int64_t micro) : micro_(micro) {}
  int64_t micro_ = 0;
};

}  // namespace sy::core
