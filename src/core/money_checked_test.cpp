#include "core/money_checked.h"

#include <cstdint>
#include <limits>
#include <optional>

#include <gtest/gtest.h>

namespace sy::core {
namespace {

constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
constexpr int64_t kMin = std::numeric_limits<int64_t>::min();

Money Pico(int64_t pico) { return Money::FromPico(pico); }

// nullopt stays nullopt; a value is compared by its pico-dollars.
std::optional<int64_t> PicoOf(std::optional<Money> m) {
  if (!m) return std::nullopt;
  return m->pico();
}

TEST(MoneyCheckedTest, AddIsExactUpToTheLargestMoneyAndNulloptPastIt) {
  struct Case {
    int64_t a;
    int64_t b;
    std::optional<int64_t> sum;
  };
  const Case cases[] = {
      {1, 2, 3},
      {kMax - 1, 1, kMax},  // exactly the largest Money
      {kMax, 0, kMax},
      {kMax, 1, std::nullopt},  // one pico-dollar past it
      {kMax, kMax, std::nullopt},
      {kMin, -1, std::nullopt},
      {kMin, kMax, -1},
      {-5, 3, -2},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(PicoOf(CheckedAdd(Pico(c.a), Pico(c.b))), c.sum) << c.a << " + " << c.b;
  }
}

TEST(MoneyCheckedTest, SubtractIsExactOrNullopt) {
  struct Case {
    int64_t a;
    int64_t b;
    std::optional<int64_t> difference;
  };
  const Case cases[] = {
      {3, 5, -2},
      {kMax, kMax, 0},
      {0, kMax, -kMax},
      {-1, kMax, kMin},  // exactly the smallest Money
      {-2, kMax, std::nullopt},
      {kMax, -1, std::nullopt},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(PicoOf(CheckedSubtract(Pico(c.a), Pico(c.b))), c.difference) << c.a << " - " << c.b;
  }
}

TEST(MoneyCheckedTest, MultiplyIsExactOrNullopt) {
  struct Case {
    int64_t pico;
    int64_t n;
    std::optional<int64_t> product;
  };
  const Case cases[] = {
      {7, 1000, 7000},
      {kMax / 1000, 1000, kMax / 1000 * 1000},  // the largest cost with a per-1,000 figure
      {kMax / 1000 + 1, 1000, std::nullopt},
      {kMax, 1, kMax},
      {kMax, 2, std::nullopt},
      {kMax, 0, 0},
      {-3, 4, -12},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(PicoOf(CheckedMultiply(Pico(c.pico), c.n)), c.product) << c.pico << " * " << c.n;
  }
}

TEST(MoneyCheckedTest, CostOfTokensIsExactOrNullopt) {
  // The largest price PricePerMTokens::Parse takes, and one a command line might give.
  const PricePerMTokens largest = PricePerMTokens::FromMicro(kMax);
  const PricePerMTokens million = *PricePerMTokens::Parse("1000000");  // 1e12 micro-USD per M
  struct Case {
    PricePerMTokens price;
    int64_t tokens;
    std::optional<int64_t> pico;
  };
  const Case cases[] = {
      {*PricePerMTokens::Parse("0.014"), 1, 14'000},
      {largest, 1, kMax},
      {largest, 2, std::nullopt},
      {largest, 0, 0},
      {million, 9'223'372, 9'223'372'000'000'000'000},
      {million, 9'223'373, std::nullopt},  // 9.2 million tokens at $1M/M pass the largest Money
      {PricePerMTokens(), kMax, 0},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(PicoOf(CheckedCostOf(c.price, c.tokens)), c.pico)
        << c.price.ToString() << " x " << c.tokens;
  }
}

}  // namespace
}  // namespace sy::core
