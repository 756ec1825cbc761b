// Exact cost of a usage block: integer tokens times integer micro-USD per million tokens gives
// pico-USD exactly. No floating point.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <limits>

#include "catalog/catalog.h"
#include "core/saturating.h"

namespace sy::catalog {
namespace {

constexpr int64_t kMaxPico = std::numeric_limits<int64_t>::max();

// An upstream can report any token count: saturate instead of overflowing.
core::Money SaturatingCost(int64_t tokens, core::PricePerMTokens price) {
  int64_t pico = 0;
  if (__builtin_mul_overflow(tokens, price.micro(), &pico)) pico = kMaxPico;
  return core::Money::FromPico(pico);
}

// Minutes since 00:00 UTC of `at` (floored, so times before 1970 work too).
int MinuteOfDayUtc(std::chrono::system_clock::time_point at) {
  const auto since_midnight = at - std::chrono::floor<std::chrono::days>(at);
  return static_cast<int>(std::chrono::floor<std::chrono::minutes>(since_midnight).count());
}

bool InWindow(const config::PriceWindow& window, int minute) {
  const int start = window.start_minute_utc;
  const int end = window.end_minute_utc;
  if (start < end) return minute >= start && minute < end;
  return minute >= start || minute < end;  // crosses midnight
}

}  // namespace

CostBreakdown ComputeCost(const config::PriceSchedule& schedule, const core::Usage& usage,
                          std::chrono::system_clock::time_point at) {
  CostBreakdown cost;
  cost.example_price = schedule.example;
  cost.price_list = "standard";
  const config::PriceList* list = &schedule.standard;
  const int minute = MinuteOfDayUtc(at);
  for (const config::PriceWindow& window : schedule.windows) {
    if (InWindow(window, minute)) {
      list = &window.prices;
      cost.price_list = window.name;
      break;
    }
  }

  const int64_t input = std::max<int64_t>(usage.input_tokens, 0);
  const int64_t cached = std::max<int64_t>(usage.cached_input_tokens, 0);
  const int64_t written = std::max<int64_t>(usage.cache_write_input_tokens, 0);
  // No overflow: input - cached >= 0 here, and subtracting written (>= 0) stays above INT64_MIN.
  const int64_t uncached = cached > input ? 0 : std::max<int64_t>(input - cached - written, 0);

  cost.input = SaturatingCost(uncached, list->input);
  cost.cached_input = SaturatingCost(cached, list->cached_input.value_or(list->input));
  cost.cache_write = SaturatingCost(written, list->cache_write.value_or(list->input));
  cost.output = SaturatingCost(std::max<int64_t>(usage.output_tokens, 0), list->output);
  // Each part is >= 0 (tokens floored at 0, prices validated non-negative): a sum saturates at
  // the largest cost.
  cost.total = core::Money::FromPico(
      core::SaturatingAdd(core::SaturatingAdd(cost.input.pico(), cost.cached_input.pico()),
                          core::SaturatingAdd(cost.cache_write.pico(), cost.output.pico())));
  return cost;
}

}  // namespace sy::catalog
