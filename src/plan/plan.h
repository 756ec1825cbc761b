// plan: what a workload costs under several policies, exactly (`switchyard plan`,
// docs/planning.md). Pure functions over the workload and the models' price schedules; the
// command resolves policy targets (models, aliases, routing profiles) and formats the result.
//
// Exactness. A bucket's cost is tokens x price x shares with no rounding: an Amount counts
// 1e-24 USD in 128 bits, enough for a token count (<= 1e15) times a price in micro-dollars per
// million tokens times two shares in parts per million. Amounts are rounded once, to whole cents
// (half away from zero), when they are printed; a total is the exact sum of its buckets, rounded,
// so it can differ by a cent from the sum of the rounded bucket lines. A routing profile splits a
// bucket's tokens between the models its samples were routed to in whole tokens (largest
// remainder), so each model's line is the exact cost of a real number of tokens.
//
// Price lists. Standard traffic is priced at the model's standard list; the off-peak share at the
// model's first price window (DeepSeek's off-peak list) or, when it has none, the standard list;
// the batch share at the model's batch list or, when it has none, the standard list. Either
// fallback is reported as a note on the bucket. Cached input tokens cost the list's cached_input
// price (input when the list has none).
//
// Thread-safety: plain values and pure functions.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "config/workload.h"
#include "core/int128.h"
#include "core/money.h"
#include "core/result.h"

namespace sy::plan {

using core::Int128;
using core::UInt128;

// An exact amount of USD in units of 1e-24 USD.
class Amount {
 public:
  static constexpr Int128 kPerPico = 1'000'000'000'000;  // 1e-24 USD units per pico-dollar

  constexpr Amount() = default;
  static constexpr Amount FromUnits(Int128 units) { return Amount(units); }
  static constexpr Amount FromMoney(core::Money money) { return Amount(money.pico() * kPerPico); }
  constexpr Int128 units() const { return units_; }

  // Rounded half away from zero to whole cents, two decimals: "469.60", "-12.05".
  std::string ToCents() const;
  // The exact amount as the shortest decimal (up to 24 decimals): "0.00560646", "-3", "0".
  std::string ToString() const;

  // Unchecked: PricePolicy and the ledger's plans check every sum they build (Add below), and
  // the differences of two plan totals stay within range.
  constexpr Amount operator+(Amount o) const { return Amount(units_ + o.units_); }
  constexpr Amount operator-(Amount o) const { return Amount(units_ - o.units_); }
  constexpr auto operator<=>(const Amount&) const = default;

 private:
  constexpr explicit Amount(Int128 units) : units_(units) {}
  Int128 units_ = 0;
};

// a + b, or kInvalidRequest ("too large to price exactly ...") past the range of an Amount:
// how every plan sum is built (Amount's own + is unchecked).
core::Result<Amount> Add(Amount a, Amount b);

// One model's part of a bucket.
struct ModelPart {
  std::string model{};
  int64_t input_tokens = 0;
  int64_t output_tokens = 0;
  int64_t samples = 0;  // routed buckets: how many of the bucket's samples chose this model
  Amount cost{};
};

struct BucketPlan {
  std::string name{};
  std::string target{};            // as the policy names it: a model, an alias or a profile
  std::vector<ModelPart> parts{};  // one per model, in the order they were first chosen
  Amount cost{};
  std::vector<std::string> notes{};  // price-list fallbacks, e.g. "gpt-5.5 has no off-peak list"
};

struct PolicyPlan {
  std::string name{};
  std::vector<BucketPlan> buckets{};  // in the workload's order
  Amount total{};
};

// Where a policy target sends a share of the bucket's traffic: a model, or one deployment of it
// ("llama-4-maverick/self-hosted") when its deployments are priced differently. `weight` is the
// share (weights of one bucket need not add up to anything); `samples`, for a routing profile,
// how many of the bucket's samples were routed to the model (0 for a model or an alias).
struct Pick {
  std::string model{};
  const config::PriceSchedule* price = nullptr;
  int64_t weight = 1;
  int64_t samples = 0;
};

// Resolves `target` (as a policy names it) for `bucket`: to one model, or for a routing profile
// to the models its samples are routed to. Fails with a message naming the target.
using Resolve = std::function<core::Result<std::vector<Pick>>(
    std::string_view target, const config::WorkloadBucket& bucket)>;

// The exact cost of a bucket's share of traffic on one price schedule.
struct PartCost {
  Amount cost{};
  bool off_peak_fallback = false;  // off-peak traffic priced at the standard list
  bool batch_fallback = false;     // batch traffic priced at the standard list
};
// Fails (kInvalidRequest) only when a price is too large to price exactly in 128 bits.
core::Result<PartCost> PriceTokens(const config::PriceSchedule& price, int64_t input_tokens,
                                   int64_t output_tokens, const config::WorkloadBucket& shares);

// Splits `total` tokens between `weights` in proportion, in whole tokens (largest remainder,
// ties to the earlier). REQUIRES: weights non-empty, each > 0.
std::vector<int64_t> SplitTokens(int64_t total, const std::vector<int64_t>& weights);

// Prices one policy over every bucket of `workload`.
core::Result<PolicyPlan> PricePolicy(const config::Workload& workload,
                                     const config::WorkloadPolicy& policy, const Resolve& resolve);

// GPUs rented instead of an API: `switchyard plan --self-host GPUS,USD_PER_GPU_HOUR,TOKENS_PER_S`.
struct SelfHost {
  int64_t gpus = 0;
  core::Money usd_per_gpu_hour{};
  int64_t tokens_per_second = 0;  // the whole fleet's throughput, input and output together
};
// "8,2.50,2400". Fails with kInvalidRequest saying which field is wrong.
core::Result<SelfHost> ParseSelfHost(std::string_view text);

// A month is 730 hours (8,760 / 12).
inline constexpr int64_t kHoursPerMonth = 730;

struct BreakEven {
  Amount monthly_cost{};           // gpus x usd_per_gpu_hour x 730
  int64_t monthly_capacity = 0;    // tokens the fleet can serve in a month
  Amount api_price_per_million{};  // the policy's cost per million workload tokens, blended
  // Tokens per month at which the API costs as much as the fleet; nullopt when the policy costs
  // nothing or the volume is past 64 bits.
  std::optional<int64_t> break_even{};
};
// The break-even of `policy` (over `workload_tokens`, input and output) against `host`.
BreakEven ComputeBreakEven(const SelfHost& host, const PolicyPlan& policy, int64_t workload_tokens);

// Every token of the workload, input and output.
int64_t WorkloadTokens(const config::Workload& workload);

}  // namespace sy::plan
