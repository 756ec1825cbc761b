// BM_Observe*: what app::GatewayMetrics::Observe costs per recorded request in steady state
// (every label set already seen), for a one-attempt request and for a failover of two attempts,
// on one thread and with two threads sharing the same children (reader-lock and counter
// cache-line contention). BM_Render: one scrape of the demo catalog after a varied run.
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include <benchmark/benchmark.h>

#include "app/gateway_metrics.h"
#include "bench/micro/demo_catalog.h"
#include "catalog/catalog.h"
#include "ledger/record.h"
#include "routing/decide.h"

namespace {

struct Bench {
  Bench() {
    catalog = sy::bench::DemoCatalog();
    health = std::make_unique<sy::routing::Health>(sy::routing::HealthFor(*catalog));
    metrics = std::make_unique<sy::app::GatewayMetrics>(*catalog);
  }
  std::shared_ptr<const sy::catalog::Catalog> catalog;
  std::unique_ptr<sy::routing::Health> health;
  std::unique_ptr<sy::app::GatewayMetrics> metrics;
};

Bench& TheBench() {
  static Bench bench;
  return bench;
}

sy::ledger::Attempt Attempt(std::string model, std::string outcome, std::string error_code) {
  sy::ledger::Attempt a;
  a.model = std::move(model);
  a.provider = "deepseek";
  a.deployment = "deepseek";
  a.outcome = std::move(outcome);
  a.error_code = std::move(error_code);
  return a;
}

sy::ledger::Record Record(bool failover) {
  sy::ledger::Record r;
  r.tenant = "acme";
  r.dialect = "openai";
  r.endpoint = "/v1/chat/completions";
  r.profile = "auto";
  r.rule = "cheap-extraction";
  r.chosen_model = "deepseek-v4-flash";
  r.provider = "deepseek";
  r.status = 200;
  r.stream = true;
  r.latency_ms = 850;
  r.ttft_ms = 120;
  if (failover) r.attempts.push_back(Attempt("kimi-k2.6", "failed", "upstream_unavailable"));
  sy::ledger::Attempt ok = Attempt("deepseek-v4-flash", "ok", "");
  ok.verdict = "passed";
  ok.usage.input_tokens = 1200;
  ok.usage.cached_input_tokens = 800;
  ok.usage.output_tokens = 300;
  ok.cost = sy::core::Money::FromPico(190'000'000);
  r.attempts.push_back(ok);
  return r;
}

void BM_ObserveOneAttempt(benchmark::State& state) {
  const sy::ledger::Record record = Record(false);
  for (auto _ : state) TheBench().metrics->Observe(record, std::chrono::microseconds(35));
}
BENCHMARK(BM_ObserveOneAttempt)->Threads(1)->Threads(2)->UseRealTime();

void BM_ObserveFailover(benchmark::State& state) {
  const sy::ledger::Record record = Record(true);
  for (auto _ : state) TheBench().metrics->Observe(record, std::chrono::microseconds(35));
}
BENCHMARK(BM_ObserveFailover)->Threads(1)->Threads(2)->UseRealTime();

void BM_Render(benchmark::State& state) {
  Bench& bench = TheBench();
  bench.metrics->Observe(Record(true), std::chrono::microseconds(35));
  for (auto _ : state) {
    std::string text = bench.metrics->Render(*bench.health, sy::app::LedgerStats{}, {}, {});
    benchmark::DoNotOptimize(text);
  }
}
BENCHMARK(BM_Render);

}  // namespace

BENCHMARK_MAIN();
