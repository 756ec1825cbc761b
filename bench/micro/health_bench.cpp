// BM_HealthCall*: what Health costs one sent call on the hot path (Admit, Begin, NoteSuccess),
// on one thread and with two threads sharing one deployment's slot (cache-line contention).
// BM_OrderDeployments*: ordering a model's three deployments, per strategy.
#include <chrono>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "routing/deployments.h"
#include "routing/health.h"

namespace {

using sy::routing::Admission;
using sy::routing::DeploymentView;
using sy::routing::Health;
using sy::routing::SteadyTime;
using sy::routing::Strategy;

Health& SharedHealth() {
  static Health health({"model/east", "model/west", "model/eu"}, sy::routing::BreakerConfig{},
                       std::chrono::seconds(60), std::chrono::seconds(120));
  return health;
}

void BM_HealthCall(benchmark::State& state) {
  Health& health = SharedHealth();
  // Time moves 1 ms per call, so the window's buckets roll over as they would under load.
  SteadyTime now = std::chrono::steady_clock::now();
  const size_t slot = 0;
  for (auto _ : state) {
    const Admission admission = health.Admit(slot, now);
    benchmark::DoNotOptimize(admission);
    health.Begin(slot);
    health.NoteSuccess(slot, now, std::chrono::microseconds(1500), false);
    now += std::chrono::milliseconds(1);
  }
}
BENCHMARK(BM_HealthCall)->Threads(1)->Threads(2)->UseRealTime();

void BM_HealthRead(benchmark::State& state) {
  Health& health = SharedHealth();
  const SteadyTime now = std::chrono::steady_clock::now();
  for (auto _ : state) benchmark::DoNotOptimize(health.Read(1, now));
}
BENCHMARK(BM_HealthRead);

void BM_OrderDeployments(benchmark::State& state) {
  const auto strategy = static_cast<Strategy>(state.range(0));
  state.SetLabel(std::string(sy::routing::StrategyName(strategy)));
  const std::vector<DeploymentView> deployments = {{3, 4, 120.5}, {1, 2, 80.0}, {2, 4, 0.0}};
  uint64_t random = 0x243f6a8885a308d3ULL;
  for (auto _ : state) {
    benchmark::DoNotOptimize(sy::routing::OrderDeployments(strategy, deployments, random));
    random = sy::routing::SplitMix64(random);
  }
}
BENCHMARK(BM_OrderDeployments)
    ->Arg(static_cast<int>(Strategy::kWeighted))
    ->Arg(static_cast<int>(Strategy::kLeastInFlight))
    ->Arg(static_cast<int>(Strategy::kLatency));

}  // namespace

BENCHMARK_MAIN();
