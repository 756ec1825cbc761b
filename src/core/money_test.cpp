#include "core/money.h"

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include <gtest/gtest.h>

namespace sy::core {
namespace {

int64_t ParsePico(std::string_view text) {
  auto m = Money::Parse(text);
  EXPECT_TRUE(m.has_value()) << text;
  return m ? m->pico() : 0;
}

std::string MoneyError(std::string_view text) {
  auto m = Money::Parse(text);
  EXPECT_FALSE(m.has_value()) << text;
  if (m) return "";
  EXPECT_EQ(m.error().code, Errc::kInvalidRequest);
  return m.error().message;
}

std::string PriceError(std::string_view text) {
  auto p = PricePerMTokens::Parse(text);
  EXPECT_FALSE(p.has_value()) << text;
  return p ? "" : p.error().message;
}

TEST(MoneyTest, ParsesPlainDecimals) {
  EXPECT_EQ(ParsePico("12"), 12 * Money::kPicoPerUsd);
  EXPECT_EQ(ParsePico("0.5"), Money::kPicoPerUsd / 2);
  EXPECT_EQ(ParsePico("-3.25"), -3'250'000'000'000);
  EXPECT_EQ(ParsePico("0.000000000001"), 1);
  EXPECT_EQ(ParsePico("0"), 0);
  EXPECT_EQ(ParsePico("-0"), 0);
  EXPECT_EQ(ParsePico("007.10"), 7'100'000'000'000);
  EXPECT_EQ(ParsePico("9223372.036854775807"), std::numeric_limits<int64_t>::max());
  EXPECT_EQ(ParsePico("-9223372.036854775807"), -std::numeric_limits<int64_t>::max());
}

TEST(MoneyTest, RejectsGarbage) {
  EXPECT_EQ(MoneyError(""), "\"\" is not a decimal number");
  EXPECT_EQ(MoneyError("abc"), "\"abc\" is not a decimal number");
  EXPECT_EQ(MoneyError("30.0.0"), "\"30.0.0\" is not a decimal number");
  EXPECT_EQ(MoneyError(".5"), "\".5\" is not a decimal number");
  EXPECT_EQ(MoneyError("5."), "\"5.\" is not a decimal number");
  EXPECT_EQ(MoneyError("+5"), "\"+5\" is not a decimal number");
  EXPECT_EQ(MoneyError("-"), "\"-\" is not a decimal number");
  EXPECT_EQ(MoneyError("1e3"), "\"1e3\" is not a decimal number");
  EXPECT_EQ(MoneyError("1,000"), "\"1,000\" is not a decimal number");
  EXPECT_EQ(MoneyError(" 1"), "\" 1\" is not a decimal number");
  EXPECT_EQ(MoneyError("--1"), "\"--1\" is not a decimal number");
}

TEST(MoneyTest, RejectsTooManyDecimalsAndOverflow) {
  EXPECT_EQ(MoneyError("0.0000000000001"), "\"0.0000000000001\" has more than 12 decimal places");
  EXPECT_EQ(MoneyError("9223372.036854775808"), "\"9223372.036854775808\" is too large");
  EXPECT_EQ(MoneyError("99999999999999999999999"), "\"99999999999999999999999\" is too large");
}

TEST(MoneyTest, QuotesLongInputShortened) {
  const std::string long_text(100, 'x');
  EXPECT_EQ(MoneyError(long_text), "\"" + std::string(40, 'x') + "...\" is not a decimal number");
  EXPECT_EQ(MoneyError(std::string_view("1\n2", 3)), "\"1?2\" is not a decimal number");
}

TEST(MoneyTest, ToStringIsShortestExact) {
  EXPECT_EQ(Money().ToString(), "0");
  EXPECT_EQ(Money::FromPico(Money::kPicoPerUsd / 2).ToString(), "0.5");
  EXPECT_EQ(Money::FromPico(123'000'000).ToString(), "0.000123");
  EXPECT_EQ(Money::FromPico(-1'250'000'000'000).ToString(), "-1.25");
  EXPECT_EQ(Money::FromPico(1).ToString(), "0.000000000001");
  EXPECT_EQ(Money::FromPico(-1).ToString(), "-0.000000000001");
  EXPECT_EQ(Money::FromPico(std::numeric_limits<int64_t>::max()).ToString(),
            "9223372.036854775807");
  EXPECT_EQ(Money::FromPico(std::numeric_limits<int64_t>::min()).ToString(),
            "-9223372.036854775808");
  for (const char* text : {"0.014", "12", "-3.25", "0.000000000007", "1000000.5"}) {
    EXPECT_EQ(Money::Parse(text)->ToString(), text);
  }
}

TEST(MoneyTest, DivideMoneyRoundsHalfAwayFromZero) {
  const std::vector<std::tuple<int64_t, int64_t, int64_t>> cases = {
      {10, 4, 3},
      {9, 4, 2},
      {11, 4, 3},
      {-10, 4, -3},
      {-9, 4, -2},
      {7, 1, 7},
      {0, 3, 0},
      {2, 3, 1},
      {1, 3, 0},
      {-2, 3, -1},
      {5, 2, 3},
      {-5, 2, -3},
      {INT64_MAX, 2, INT64_MAX / 2 + 1},
  };
  for (const auto& [pico, n, want] : cases) {
    EXPECT_EQ(DivideMoney(Money::FromPico(pico), n).pico(), want) << pico << " / " << n;
  }
}

TEST(MoneyTest, ToFixedRoundsHalfAwayFromZeroAndKeepsItsDecimals) {
  const std::vector<std::tuple<std::string_view, int, std::string_view>> cases = {
      {"0.00123456", 4, "0.0012"}, {"0.00125", 4, "0.0013"},
      {"-0.00125", 4, "-0.0013"},  {"1.5", 4, "1.5000"},
      {"2", 4, "2.0000"},          {"2.5", 0, "3"},
      {"-2.5", 0, "-3"},           {"0.000000000001", 12, "0.000000000001"},
      {"0.00004", 4, "0.0000"},    {"12.345", 2, "12.35"},
  };
  for (const auto& [usd, decimals, want] : cases) {
    EXPECT_EQ(Money::Parse(usd)->ToFixed(decimals), want) << usd << " to " << decimals;
  }
}

TEST(MoneyTest, ToCentsRoundsHalfAwayFromZero) {
  const auto cents = [](std::string_view usd) { return Money::Parse(usd)->ToCents(); };
  EXPECT_EQ(cents("0"), "0.00");
  EXPECT_EQ(cents("12.345"), "12.35");
  EXPECT_EQ(cents("12.344999999999"), "12.34");
  EXPECT_EQ(cents("-12.345"), "-12.35");
  EXPECT_EQ(cents("-12.344"), "-12.34");
  EXPECT_EQ(cents("0.005"), "0.01");
  EXPECT_EQ(cents("0.004999999999"), "0.00");
  EXPECT_EQ(cents("-0.004"), "0.00");  // no negative zero
  EXPECT_EQ(cents("-0.005"), "-0.01");
  EXPECT_EQ(cents("7"), "7.00");
  EXPECT_EQ(cents("7.1"), "7.10");
  EXPECT_EQ(cents("0.999"), "1.00");
  EXPECT_EQ(Money::FromPico(std::numeric_limits<int64_t>::min()).ToCents(), "-9223372.04");
}

TEST(MoneyTest, Arithmetic) {
  const Money a = *Money::Parse("0.10");
  const Money b = *Money::Parse("0.20");
  EXPECT_EQ((a + b).ToString(), "0.3");  // exact, unlike 0.1 + 0.2 in binary floating point
  EXPECT_EQ((a - b).ToString(), "-0.1");
  Money sum;
  for (int i = 0; i < 10; ++i) sum += a;
  EXPECT_EQ(sum, *Money::Parse("1"));
  EXPECT_LT(a, b);
}

TEST(PricePerMTokensTest, ParsesUpToSixDecimals) {
  EXPECT_EQ(PricePerMTokens::Parse("30")->micro(), 30'000'000);
  EXPECT_EQ(PricePerMTokens::Parse("0.014")->micro(), 14'000);
  EXPECT_EQ(PricePerMTokens::Parse("0.007")->micro(), 7'000);
  EXPECT_EQ(PricePerMTokens::Parse("5.00")->micro(), 5'000'000);
  EXPECT_EQ(PricePerMTokens::Parse("0.000001")->micro(), 1);
  EXPECT_EQ(PricePerMTokens::Parse("-0")->micro(), 0);
}

TEST(PricePerMTokensTest, RejectsBadPrices) {
  EXPECT_EQ(PriceError("30.0.0"), "\"30.0.0\" is not a decimal number");
  EXPECT_EQ(PriceError("0.0000001"), "\"0.0000001\" has more than 6 decimal places");
  EXPECT_EQ(PriceError("-1"), "\"-1\" is negative");
  EXPECT_EQ(PriceError("free"), "\"free\" is not a decimal number");
  EXPECT_EQ(PriceError("9223372036854.775808"), "\"9223372036854.775808\" is too large");
}

TEST(PricePerMTokensTest, ToStringAndCost) {
  EXPECT_EQ(PricePerMTokens::Parse("0.014")->ToString(), "0.014");
  EXPECT_EQ(PricePerMTokens::Parse("30.000")->ToString(), "30");
  EXPECT_EQ(PricePerMTokens().ToString(), "0");
  // 1,000,000 tokens at $0.014/M is exactly $0.014; one token is 14,000 pico-dollars.
  const auto price = *PricePerMTokens::Parse("0.014");
  EXPECT_EQ(price.CostOf(1'000'000).ToString(), "0.014");
  EXPECT_EQ(price.CostOf(1).pico(), 14'000);
  EXPECT_EQ(price.CostOf(0).pico(), 0);
}

}  // namespace
}  // namespace sy::core
