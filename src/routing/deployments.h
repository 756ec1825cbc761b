// routing::OrderDeployments: the order in which to try one model's deployments (the same model
// served from several endpoints, regions or keys). Routing picks the model; this picks among its
// deployments, from figures Health keeps (in flight, latency EWMA) and the configured weights.
//
// Pure: no clock, no global RNG (the caller passes a random number), no allocation beyond the
// returned order. Thread-safety: none needed; every function reads only its arguments.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

namespace sy::routing {

enum class Strategy : uint8_t { kWeighted, kLeastInFlight, kLatency };

// "weighted", "least_in_flight", "latency"; nullopt for anything else.
std::optional<Strategy> ParseStrategy(std::string_view name);
std::string_view StrategyName(Strategy strategy);

struct DeploymentView {
  int weight = 1;              // <= 0: only after every positively weighted deployment
  int64_t in_flight = 0;       // Health::Snapshot::in_flight
  double latency_ewma_ms = 0;  // Health::Snapshot::latency_ewma_ms; 0 = no sample yet
};

// The order in which to try a model's deployments (a permutation of the indices of
// `deployments`):
//  weighted: weighted random order without replacement by weight, drawn from `random` (a
//   caller-supplied uniform 64-bit number; further draws are derived from it with SplitMix64),
//   so the first pick is deployment i with probability weight_i / sum (up to a modulo bias of
//   sum / 2^64). Deployments of weight <= 0 follow in config order;
//  least_in_flight: fewest in flight first, ties by higher weight, then config order;
//  latency: lowest EWMA first; a deployment with no sample (0) goes first (it must be measured);
//   ties by config order.
// `random` is used by kWeighted only; the same arguments always give the same order.
std::vector<size_t> OrderDeployments(Strategy strategy, std::span<const DeploymentView> deployments,
                                     uint64_t random);

// The SplitMix64 step: advances `state` and returns the next 64-bit draw.
uint64_t SplitMix64(uint64_t& state);

}  // namespace sy::routing
