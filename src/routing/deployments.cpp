#include "routing/deployments.h"

#include <algorithm>
#include <numeric>

namespace sy::routing {
namespace {

std::vector<size_t> ConfigOrder(size_t n) {
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), size_t{0});
  return order;
}

// Repeatedly draws one of the positively weighted deployments left, with probability by weight,
// and removes it; the rest keep config order at the end.
std::vector<size_t> Weighted(std::span<const DeploymentView> deployments, uint64_t random) {
  std::vector<size_t> order;
  order.reserve(deployments.size());
  std::vector<size_t> left;
  std::vector<size_t> unweighted;
  uint64_t total = 0;
  for (size_t i = 0; i < deployments.size(); ++i) {
    if (deployments[i].weight > 0) {
      left.push_back(i);
      total += static_cast<uint64_t>(deployments[i].weight);
    } else {
      unweighted.push_back(i);
    }
  }
  uint64_t state = random;
  uint64_t draw = random;  // the first draw is the caller's own number
  while (!left.empty()) {
    uint64_t point = draw % total;
    size_t pick = 0;
    for (; pick + 1 < left.size(); ++pick) {
      const auto weight = static_cast<uint64_t>(deployments[left[pick]].weight);
      if (point < weight) break;
      point -= weight;
    }
    total -= static_cast<uint64_t>(deployments[left[pick]].weight);
    order.push_back(left[pick]);
    left.erase(left.begin() + static_cast<std::ptrdiff_t>(pick));
    draw = SplitMix64(state);
  }
  order.insert(order.end(), unweighted.begin(), unweighted.end());
  return order;
}

}  // namespace

std::optional<Strategy> ParseStrategy(std::string_view name) {
  for (Strategy s : {Strategy::kWeighted, Strategy::kLeastInFlight, Strategy::kLatency}) {
    if (StrategyName(s) == name) return s;
  }
  return std::nullopt;
}

std::string_view StrategyName(Strategy strategy) {
  switch (strategy) {
    case Strategy::kWeighted:
      return "weighted";
    case Strategy::kLeastInFlight:
      return "least_in_flight";
    case Strategy::kLatency:
      return "latency";
  }
  return "weighted";
}

uint64_t SplitMix64(uint64_t& state) {
  state += 0x9e3779b97f4a7c15ULL;
  uint64_t z = state;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

std::vector<size_t> OrderDeployments(Strategy strategy, std::span<const DeploymentView> deployments,
                                     uint64_t random) {
  if (strategy == Strategy::kWeighted) return Weighted(deployments, random);
  std::vector<size_t> order = ConfigOrder(deployments.size());
  if (strategy == Strategy::kLeastInFlight) {
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
      const DeploymentView& x = deployments[a];
      const DeploymentView& y = deployments[b];
      if (x.in_flight != y.in_flight) return x.in_flight < y.in_flight;
      return x.weight > y.weight;
    });
  } else {
    // An unmeasured deployment sorts as latency 0, so it goes first.
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
      return std::max(0.0, deployments[a].latency_ewma_ms) <
             std::max(0.0, deployments[b].latency_ewma_ms);
    });
  }
  return order;
}

}  // namespace sy::routing
