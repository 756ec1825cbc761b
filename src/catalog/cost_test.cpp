// ComputeCost against hand calculations, to the pico-dollar. Prices are DESIGN.md's table.
#include <chrono>
#include <cstdint>
#include <limits>
#include <string_view>

#include <gtest/gtest.h>

#include "catalog/catalog.h"

namespace sy::catalog {
namespace {

using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;
using std::chrono::system_clock;

core::PricePerMTokens P(std::string_view usd) { return *core::PricePerMTokens::Parse(usd); }

config::PriceSchedule Schedule(std::string_view input, std::string_view output) {
  config::PriceSchedule s;
  s.standard.input = P(input);
  s.standard.output = P(output);
  return s;
}

config::PriceSchedule DeepSeekV4Flash() {
  config::PriceSchedule s = Schedule("0.14", "0.28");
  s.standard.cached_input = P("0.014");
  config::PriceWindow off_peak{"off-peak", 16 * 60 + 30, 30, {}};
  off_peak.prices.input = P("0.07");
  off_peak.prices.cached_input = P("0.007");
  off_peak.prices.output = P("0.14");
  s.windows.push_back(off_peak);
  return s;
}

core::Usage MakeUsage(int64_t input, int64_t cached, int64_t output, int64_t written = 0) {
  core::Usage u;
  u.input_tokens = input;
  u.cached_input_tokens = cached;
  u.cache_write_input_tokens = written;
  u.output_tokens = output;
  u.reported = true;
  return u;
}

// 2026-03-10 at the given UTC time of day.
system_clock::time_point At(int h, int m, int s, int ms = 0) {
  using namespace std::chrono;
  return sys_days{year{2026} / March / 10} + hours(h) + minutes(m) + seconds(s) + milliseconds(ms);
}

TEST(ComputeCostTest, Gpt55CachedTokensCostInputWhenNoCachedPrice) {
  // 1200 input of which 200 cached, 300 output. GPT-5.5 lists no cached price.
  const CostBreakdown c =
      ComputeCost(Schedule("5.00", "30.00"), MakeUsage(1200, 200, 300), At(12, 0, 0));
  EXPECT_EQ(c.input.pico(), int64_t{1000} * 5'000'000);   // $0.005
  EXPECT_EQ(c.cached_input.pico(), 200 * 5'000'000);      // $0.001
  EXPECT_EQ(c.output.pico(), int64_t{300} * 30'000'000);  // $0.009
  EXPECT_EQ(c.total.ToString(), "0.015");
  EXPECT_EQ(c.price_list, "standard");
  EXPECT_FALSE(c.example_price);
}

TEST(ComputeCostTest, Opus47CachedPrice) {
  config::PriceSchedule s = Schedule("5.00", "25.00");
  s.standard.cached_input = P("0.50");
  const CostBreakdown c = ComputeCost(s, MakeUsage(1200, 200, 500), At(12, 0, 0));
  EXPECT_EQ(c.input.ToString(), "0.005");
  EXPECT_EQ(c.cached_input.ToString(), "0.0001");
  EXPECT_EQ(c.output.ToString(), "0.0125");
  EXPECT_EQ(c.total.pico(), 17'600'000'000);
}

TEST(ComputeCostTest, CacheWrites) {
  config::PriceSchedule s = Schedule("5.00", "25.00");
  s.standard.cached_input = P("0.50");
  const core::Usage u = MakeUsage(10'000, 2'000, 0, 3'000);
  CostBreakdown c = ComputeCost(s, u, At(12, 0, 0));
  EXPECT_EQ(c.input.pico(), 5'000LL * 5'000'000);
  EXPECT_EQ(c.cached_input.pico(), 2'000LL * 500'000);
  EXPECT_EQ(c.cache_write.pico(), 3'000LL * 5'000'000);  // no cache_write price: input price
  s.standard.cache_write = P("6.25");
  c = ComputeCost(s, u, At(12, 0, 0));
  EXPECT_EQ(c.cache_write.pico(), 18'750'000'000);
  EXPECT_EQ(c.total.ToString(), "0.04475");
}

TEST(ComputeCostTest, DeepSeekOffPeakBoundaries) {
  const config::PriceSchedule s = DeepSeekV4Flash();
  const core::Usage u = MakeUsage(1'000'000, 400'000, 100'000);
  // Standard: 600k x 0.14 + 400k x 0.014 + 100k x 0.28 = 0.084 + 0.0056 + 0.028.
  // Off-peak: 600k x 0.07 + 400k x 0.007 + 100k x 0.14 = 0.042 + 0.0028 + 0.014.
  const struct {
    system_clock::time_point at;
    const char* list;
    const char* total;
  } cases[] = {
      {At(16, 29, 59), "standard", "0.1176"}, {At(16, 29, 59, 999), "standard", "0.1176"},
      {At(16, 30, 0), "off-peak", "0.0588"},  {At(23, 59, 59, 999), "off-peak", "0.0588"},
      {At(0, 0, 0), "off-peak", "0.0588"},    {At(0, 29, 59), "off-peak", "0.0588"},
      {At(0, 30, 0), "standard", "0.1176"},   {At(12, 0, 0), "standard", "0.1176"},
  };
  for (const auto& tc : cases) {
    const CostBreakdown c = ComputeCost(s, u, tc.at);
    EXPECT_EQ(c.price_list, tc.list);
    EXPECT_EQ(c.total.ToString(), tc.total) << tc.list;
  }
  const CostBreakdown off = ComputeCost(s, u, At(16, 30, 0));
  EXPECT_EQ(off.input.pico(), 42'000'000'000);
  EXPECT_EQ(off.cached_input.pico(), 2'800'000'000);
  EXPECT_EQ(off.output.pico(), 14'000'000'000);
}

TEST(ComputeCostTest, DeepSeekProOffPeakCachedIsItsOwnPrice) {
  config::PriceSchedule s = Schedule("1.74", "3.48");
  s.standard.cached_input = P("0.17");
  config::PriceWindow w{"off-peak", 990, 30, {}};
  w.prices.input = P("0.87");
  w.prices.cached_input = P("0.09");
  w.prices.output = P("1.74");
  s.windows.push_back(w);
  EXPECT_EQ(ComputeCost(s, MakeUsage(1000, 1000, 0), At(17, 0, 0)).cached_input.pico(),
            1000 * 90'000);
  EXPECT_EQ(ComputeCost(s, MakeUsage(1000, 1000, 0), At(9, 0, 0)).cached_input.pico(),
            1000 * 170'000);
}

TEST(ComputeCostTest, WindowWithinADayAndFirstMatchWins) {
  config::PriceSchedule s = Schedule("1", "1");
  config::PriceWindow day{"day", 9 * 60, 17 * 60, {P("2"), {}, {}, P("2")}};
  config::PriceWindow overlap{"overlap", 12 * 60, 13 * 60, {P("3"), {}, {}, P("3")}};
  s.windows = {day, overlap};
  EXPECT_EQ(ComputeCost(s, MakeUsage(1, 0, 0), At(8, 59, 59)).price_list, "standard");
  EXPECT_EQ(ComputeCost(s, MakeUsage(1, 0, 0), At(9, 0, 0)).price_list, "day");
  EXPECT_EQ(ComputeCost(s, MakeUsage(1, 0, 0), At(12, 30, 0)).price_list, "day");
  EXPECT_EQ(ComputeCost(s, MakeUsage(1, 0, 0), At(17, 0, 0)).price_list, "standard");
}

TEST(ComputeCostTest, TimesBefore1970UseTheUtcTimeOfDay) {
  const auto at = system_clock::time_point{} - minutes(1);  // 1969-12-31 23:59 UTC
  EXPECT_EQ(ComputeCost(DeepSeekV4Flash(), MakeUsage(1, 0, 0), at).price_list, "off-peak");
  const auto morning = system_clock::time_point{} - hours(20);  // 1969-12-31 04:00 UTC
  EXPECT_EQ(ComputeCost(DeepSeekV4Flash(), MakeUsage(1, 0, 0), morning).price_list, "standard");
}

TEST(ComputeCostTest, InconsistentUsageIsClampedSanely) {
  const config::PriceSchedule s = DeepSeekV4Flash();
  // Negative counts count as zero.
  CostBreakdown c = ComputeCost(s, MakeUsage(-5, -1, -7, -2), At(12, 0, 0));
  EXPECT_EQ(c.total.pico(), 0);
  // More cached than input: cached billed as reported, uncached input 0.
  c = ComputeCost(s, MakeUsage(100, 300, 0), At(12, 0, 0));
  EXPECT_EQ(c.input.pico(), 0);
  EXPECT_EQ(c.cached_input.pico(), 300 * 14'000);
  // Cached + written exceed input: uncached input 0, both parts billed.
  c = ComputeCost(s, MakeUsage(100, 60, 0, 60), At(12, 0, 0));
  EXPECT_EQ(c.input.pico(), 0);
  EXPECT_EQ(c.cached_input.pico(), 60 * 14'000);
  EXPECT_EQ(c.cache_write.pico(), 60 * 140'000);
  // No usage reported: nothing to bill.
  EXPECT_EQ(ComputeCost(s, core::Usage{}, At(12, 0, 0)).total.pico(), 0);
}

TEST(ComputeCostTest, HugeCountsSaturateInsteadOfOverflowing) {
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  const CostBreakdown c =
      ComputeCost(Schedule("180", "180"), MakeUsage(kMax, 0, kMax), At(12, 0, 0));
  EXPECT_EQ(c.input.pico(), kMax);
  EXPECT_EQ(c.output.pico(), kMax);
  EXPECT_EQ(c.total.pico(), kMax);
}

TEST(ComputeCostTest, ExampleFlagIsCarried) {
  config::PriceSchedule s = Schedule("0.60", "2.50");
  s.example = true;
  EXPECT_TRUE(ComputeCost(s, MakeUsage(1, 0, 1), At(12, 0, 0)).example_price);
}

TEST(ComputeCostTest, AMonthOfRequestsSumsToTheCent) {
  // 10,000 GPT-5.5 requests of 1234 input and 567 output tokens:
  // each 1234 x $5/M + 567 x $30/M = $0.00617 + $0.01701 = $0.02318; all $231.80 exactly.
  const config::PriceSchedule s = Schedule("5.00", "30.00");
  core::Money sum;
  for (int i = 0; i < 10'000; ++i) {
    sum += ComputeCost(s, MakeUsage(1234, 0, 567), At(i % 24, 0, 0)).total;
  }
  EXPECT_EQ(sum.ToString(), "231.8");
  EXPECT_EQ(sum.ToCents(), "231.80");
}

}  // namespace
}  // namespace sy::catalog

namespace sy::catalog {
namespace {

// The worked example of docs/cost.md, so the document cannot drift from the code.
TEST(ComputeCostTest, DocsCostWorkedExample) {
  const auto noon = system_clock::time_point(hours(24 * 20000 + 12));
  const auto cost = ComputeCost(DeepSeekV4Flash(), MakeUsage(1200, 1024, 300), noon);
  EXPECT_EQ(cost.price_list, "standard");
  EXPECT_EQ(cost.total.ToString(), "0.000122976");
}

}  // namespace
}  // namespace sy::catalog
