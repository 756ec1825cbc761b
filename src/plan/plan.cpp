#include "plan/plan.h"

#include <algorithm>
#include <charconv>
#include <numeric>

namespace sy::plan {
namespace {

using config::kPartsPerMillion;

core::Error TooLarge() {
  return core::MakeError(core::Errc::kInvalidRequest,
                         "too large to price exactly (amounts stop near 1.7 x 10^14 USD)");
}

// a * b + c, or nullopt on overflow.
std::optional<Int128> MulAdd(Int128 a, Int128 b, Int128 c = 0) {
  Int128 product = 0;
  Int128 sum = 0;
  if (__builtin_mul_overflow(a, b, &product) || __builtin_add_overflow(product, c, &sum)) {
    return std::nullopt;
  }
  return sum;
}

std::string Digits(UInt128 value) {
  std::string out;
  do {
    out.push_back(static_cast<char>('0' + static_cast<int>(value % 10)));
    value /= 10;
  } while (value != 0);
  std::reverse(out.begin(), out.end());
  return out;
}

// The list a share of the traffic is priced at, and whether that is a fallback to the standard.
struct ListChoice {
  const config::PriceList* list;
  bool fallback;
};

ListChoice OffPeakList(const config::PriceSchedule& price) {
  if (price.windows.empty()) return {&price.standard, true};
  return {&price.windows.front().prices, false};
}

ListChoice BatchList(const config::PriceSchedule& price) {
  if (!price.batch) return {&price.standard, true};
  return {&*price.batch, false};
}

// tokens x list x (cached share) in units of pico-dollars x 1e6 (one share's scale), or nullopt.
std::optional<Int128> ListCost(const config::PriceList& list, int64_t input_tokens,
                               int64_t output_tokens, int64_t cached_ppm) {
  const int64_t input = list.input.micro();
  const int64_t cached = list.cached_input ? list.cached_input->micro() : input;
  const auto per_input =
      MulAdd(kPartsPerMillion - cached_ppm, input, static_cast<Int128>(cached_ppm) * cached);
  const auto output = MulAdd(output_tokens, list.output.micro());
  if (!per_input || !output) return std::nullopt;
  const auto output_scaled = MulAdd(*output, kPartsPerMillion);
  if (!output_scaled) return std::nullopt;
  return MulAdd(*per_input, input_tokens, *output_scaled);
}

}  // namespace

core::Result<Amount> Add(Amount a, Amount b) {
  Int128 sum = 0;
  if (__builtin_add_overflow(a.units(), b.units(), &sum)) return TooLarge();
  return Amount::FromUnits(sum);
}

std::string Amount::ToCents() const {
  constexpr UInt128 kPerCent = static_cast<UInt128>(kPerPico) * 10'000'000'000;
  const bool negative = units_ < 0;
  const UInt128 magnitude = negative ? -static_cast<UInt128>(units_) : static_cast<UInt128>(units_);
  UInt128 cents = magnitude / kPerCent;
  if (magnitude % kPerCent >= kPerCent / 2) ++cents;  // half away from zero
  std::string digits = Digits(cents);
  if (digits.size() < 3) digits.insert(0, 3 - digits.size(), '0');
  digits.insert(digits.size() - 2, ".");
  return (negative && cents != 0 ? "-" : "") + digits;
}

std::string Amount::ToString() const {
  constexpr int kScale = 24;
  const bool negative = units_ < 0;
  const UInt128 magnitude = negative ? -static_cast<UInt128>(units_) : static_cast<UInt128>(units_);
  std::string digits = Digits(magnitude);
  if (digits.size() <= kScale) digits.insert(0, kScale + 1 - digits.size(), '0');
  digits.insert(digits.size() - kScale, ".");
  while (digits.back() == '0') digits.pop_back();
  if (digits.back() == '.') digits.pop_back();
  return (negative ? "-" : "") + digits;
}

core::Result<PartCost> PriceTokens(const config::PriceSchedule& price, int64_t input_tokens,
                                   int64_t output_tokens, const config::WorkloadBucket& shares) {
  const ListChoice off_peak = OffPeakList(price);
  const ListChoice batch = BatchList(price);
  const struct {
    int64_t ppm;
    const config::PriceList* list;
  } parts[] = {
      {kPartsPerMillion - shares.off_peak_ppm - shares.batch_ppm, &price.standard},
      {shares.off_peak_ppm, off_peak.list},
      {shares.batch_ppm, batch.list},
  };
  PartCost out;
  Int128 total = 0;
  for (const auto& part : parts) {
    if (part.ppm == 0) continue;
    const auto cost = ListCost(*part.list, input_tokens, output_tokens, shares.cached_input_ppm);
    const auto sum = cost ? MulAdd(*cost, part.ppm, total) : std::nullopt;
    if (!sum) return TooLarge();
    total = *sum;
  }
  out.cost = Amount::FromUnits(total);
  out.off_peak_fallback = shares.off_peak_ppm > 0 && off_peak.fallback;
  out.batch_fallback = shares.batch_ppm > 0 && batch.fallback;
  return out;
}

std::vector<int64_t> SplitTokens(int64_t total, const std::vector<int64_t>& weights) {
  const Int128 sum = std::accumulate(weights.begin(), weights.end(), static_cast<Int128>(0));
  std::vector<int64_t> out(weights.size());
  std::vector<Int128> remainder(weights.size());
  int64_t given = 0;
  for (size_t i = 0; i < weights.size(); ++i) {
    const Int128 share = static_cast<Int128>(total) * weights[i];
    out[i] = static_cast<int64_t>(share / sum);
    remainder[i] = share % sum;
    given += out[i];
  }
  std::vector<size_t> order(weights.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return remainder[a] > remainder[b]; });
  for (size_t i = 0; given < total; ++i, ++given) out[order[i]] += 1;
  return out;
}

namespace {

void AddNotes(const Pick& pick, const PartCost& cost, std::vector<std::string>& notes) {
  if (cost.off_peak_fallback) {
    notes.push_back(pick.model + " has no off-peak list: its off-peak share is priced standard");
  }
  if (cost.batch_fallback) {
    notes.push_back(pick.model + " has no batch list: its batch share is priced standard");
  }
}

core::Result<BucketPlan> PriceBucket(const config::WorkloadBucket& bucket, std::string_view target,
                                     const Resolve& resolve) {
  auto picks = resolve(target, bucket);
  if (!picks) return std::move(picks).error();
  BucketPlan out{.name = bucket.name, .target = std::string(target)};
  std::vector<int64_t> weights;
  for (const Pick& pick : *picks) weights.push_back(pick.weight);
  const std::vector<int64_t> input = SplitTokens(bucket.input_tokens, weights);
  const std::vector<int64_t> output = SplitTokens(bucket.output_tokens, weights);
  for (size_t i = 0; i < picks->size(); ++i) {
    const Pick& pick = (*picks)[i];
    auto cost = PriceTokens(*pick.price, input[i], output[i], bucket);
    if (!cost) return std::move(cost).error();
    AddNotes(pick, *cost, out.notes);
    out.parts.push_back({.model = pick.model,
                         .input_tokens = input[i],
                         .output_tokens = output[i],
                         .samples = pick.samples,
                         .cost = cost->cost});
    auto sum = Add(out.cost, cost->cost);
    if (!sum) return std::move(sum).error();
    out.cost = *sum;
  }
  return out;
}

}  // namespace

core::Result<PolicyPlan> PricePolicy(const config::Workload& workload,
                                     const config::WorkloadPolicy& policy, const Resolve& resolve) {
  PolicyPlan out{.name = policy.name};
  for (const config::WorkloadBucket& bucket : workload.buckets) {
    auto priced = PriceBucket(bucket, policy.TargetFor(bucket.name), resolve);
    if (!priced) {
      return core::MakeError(priced.error().code, "policy " + policy.name + ", bucket " +
                                                      bucket.name + ": " + priced.error().message);
    }
    auto sum = Add(out.total, priced->cost);
    if (!sum)
      return core::MakeError(sum.error().code,
                             "policy " + policy.name + ": " + sum.error().message);
    out.total = *sum;
    out.buckets.push_back(std::move(*priced));
  }
  return out;
}

core::Result<SelfHost> ParseSelfHost(std::string_view text) {
  const auto fail = [&](std::string_view what) {
    return core::MakeError(core::Errc::kInvalidRequest,
                           "--self-host " + std::string(text) + ": " + std::string(what) +
                               " (expected GPUS,USD_PER_GPU_HOUR,TOKENS_PER_S, e.g. 8,2.50,2400)");
  };
  const size_t first = text.find(',');
  const size_t second = first == std::string_view::npos ? first : text.find(',', first + 1);
  if (second == std::string_view::npos || text.find(',', second + 1) != std::string_view::npos) {
    return fail("three fields");
  }
  const auto positive_int = [](std::string_view field) -> std::optional<int64_t> {
    int64_t value = 0;
    const auto [end, ec] = std::from_chars(field.data(), field.data() + field.size(), value);
    if (ec != std::errc() || end != field.data() + field.size() || value <= 0) return std::nullopt;
    return value;
  };
  SelfHost host;
  const auto gpus = positive_int(text.substr(0, first));
  const auto rate = core::Money::Parse(text.substr(first + 1, second - first - 1));
  const auto speed = positive_int(text.substr(second + 1));
  if (!gpus || *gpus > 1'000'000) return fail("GPUS must be a whole number from 1 to 1000000");
  if (!rate || rate->pico() <= 0 || rate->pico() > 100'000 * core::Money::kPicoPerUsd) {
    return fail("USD_PER_GPU_HOUR must be a positive decimal up to 100000");
  }
  if (!speed || *speed > 1'000'000'000) {
    return fail("TOKENS_PER_S must be a whole number from 1 to 1000000000");
  }
  return SelfHost{.gpus = *gpus, .usd_per_gpu_hour = *rate, .tokens_per_second = *speed};
}

int64_t WorkloadTokens(const config::Workload& workload) {
  int64_t total = 0;  // at most 2 x 1000 buckets x 1e15: no overflow
  for (const auto& bucket : workload.buckets) total += bucket.input_tokens + bucket.output_tokens;
  return total;
}

BreakEven ComputeBreakEven(const SelfHost& host, const PolicyPlan& policy,
                           int64_t workload_tokens) {
  BreakEven out;
  // Bounded by ParseSelfHost: 1e6 GPUs x 1e17 pico x 730 x 1e12 < 2^127.
  const Int128 monthly_pico =
      static_cast<Int128>(host.gpus) * host.usd_per_gpu_hour.pico() * kHoursPerMonth;
  out.monthly_cost = Amount::FromUnits(monthly_pico * Amount::kPerPico);
  out.monthly_capacity = host.tokens_per_second * 3600 * kHoursPerMonth;
  if (workload_tokens <= 0 || policy.total.units() <= 0) return out;
  if (const auto scaled_total = MulAdd(policy.total.units(), 1'000'000)) {
    out.api_price_per_million = Amount::FromUnits(*scaled_total / workload_tokens);
  }
  // Tokens t with t x total / workload_tokens >= monthly cost, rounded up to a whole token (the
  // total taken to the pico-dollar: a volume, not an amount to bill).
  const Int128 total_pico = policy.total.units() / Amount::kPerPico;
  const auto scaled = MulAdd(monthly_pico, workload_tokens);
  if (!scaled || total_pico == 0) return out;
  const Int128 tokens = (*scaled + total_pico - 1) / total_pico;
  if (tokens <= INT64_MAX) out.break_even = static_cast<int64_t>(tokens);
  return out;
}

}  // namespace sy::plan
