// config::Workload: the traffic `switchyard plan` prices, read from a YAML file
// (docs/planning.md): buckets of traffic and the policies to price them under.
//
//   buckets:
//     - {name: repetitive, input_tokens: 100000000, output_tokens: 20000000}
//     - name: chat
//       calls_per_day: 1000000
//       days: 30
//       input_tokens_per_call: 1000
//       output_tokens_per_call: 500
//       cached_input_share: 0.2      # of the input tokens: cache reads
//       off_peak_share: 0.5          # of the traffic: in the model's discounted window
//       batch_share: 0               # of the traffic: through the provider's batch API
//       samples: ["Summarise ...", "..."]   # prompts like the bucket's, for a routing profile
//   policies:
//     - name: all-frontier
//       models: {repetitive: gpt-5.5, chat: gpt-5.5}
//     - name: cheap
//       models: {repetitive: deepseek-v4-flash, "*": auto}   # "*": every other bucket
//
// Shares are exact (parts per million: at most six decimals, never a double). The off-peak and
// batch shares are disjoint parts of the bucket's traffic, so together at most 1; the rest is
// priced at the standard list. Token totals are checked for overflow and bounded (kMaxTokens).
//
// Thread-safety: plain values.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.h"

namespace sy::config {

inline constexpr int64_t kPartsPerMillion = 1'000'000;

struct WorkloadBucket {
  std::string name{};
  int64_t input_tokens = 0;  // over the workload's whole period
  int64_t output_tokens = 0;
  int64_t cached_input_ppm = 0;  // share of the input tokens that are cache reads
  int64_t off_peak_ppm = 0;      // share of the traffic sent in the model's first price window
  int64_t batch_ppm = 0;         // share of the traffic sent through the batch API
  std::vector<std::string> samples{};  // representative prompts, routed for a routing profile
};

struct WorkloadPolicy {
  std::string name{};
  // Bucket name (or "*", every bucket not named) -> a model id, an alias or a routing profile.
  std::vector<std::pair<std::string, std::string>> targets{};

  // The target for `bucket`: its own entry, else "*"'s, else "".
  std::string_view TargetFor(std::string_view bucket) const;
};

struct Workload {
  std::vector<WorkloadBucket> buckets{};
  std::vector<WorkloadPolicy> policies{};
};

// Bounds on what one workload file holds.
inline constexpr int64_t kMaxTokens = 1'000'000'000'000'000;  // per bucket and direction: 1e15
inline constexpr size_t kMaxBuckets = 1000;
inline constexpr size_t kMaxPolicies = 100;
inline constexpr size_t kMaxSamples = 1000;            // per bucket
inline constexpr size_t kMaxSampleBytes = 64 * 1024;   // per sample
inline constexpr size_t kMaxWorkloadBytes = 16 << 20;  // the file

// Parses a workload. Fails with kInvalidRequest, path-qualified ("buckets[1].days: required
// with calls_per_day"), on unknown keys, a bucket that states both or neither form of its
// volume, shares outside 0-1 or adding up past 1, duplicate names, a policy naming a bucket that
// does not exist or leaving one without a target, or a bound passed. `source` names the file in
// syntax errors.
core::Result<Workload> ParseWorkload(std::string_view yaml, std::string_view source);

// Reads and parses the file at `path`. Fails as core::ReadRegularFile (kNotFound when it cannot
// be opened; refused unread when it is not a regular file or larger than kMaxWorkloadBytes),
// then as ParseWorkload.
core::Result<Workload> LoadWorkloadFile(const std::string& path);

}  // namespace sy::config
