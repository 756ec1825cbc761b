// BM_Decide*: routing::Decide over the demo policy and catalog, and BM_RouteStage: the whole
// route stage of one request (routing headers, reading the prompt, Classify, Decide) for a ~2 KB
// prompt, as app::DecideRoute runs it for every request. Target: under 20 µs (issue 16).
// BM_Live*: what a `calibration: live` router rule adds per request.
#include <chrono>
#include <memory>
#include <string>

#include <benchmark/benchmark.h>

#include "api/openai/decode.h"
#include "app/route.h"
#include "bench/micro/demo_catalog.h"
#include "catalog/catalog.h"
#include "routing/decide.h"
#include "routing/share_calibrator.h"

namespace {

using namespace std::chrono_literals;
namespace routing = sy::routing;

struct Demo {
  Demo() {
    catalog = sy::bench::DemoCatalog();
    policy = std::make_unique<routing::Policy>(*routing::Policy::Build(*catalog));
    health = std::make_unique<routing::Health>(routing::HealthFor(*catalog));
  }
  routing::Decision Decide(std::string_view model, const routing::RouteRequest& request) const {
    const auto target = *routing::Resolve(model, *policy, *catalog);
    return routing::Decide(target, request, *policy, *catalog, *health, now);
  }
  std::shared_ptr<const sy::catalog::Catalog> catalog;
  std::unique_ptr<routing::Policy> policy;
  std::unique_ptr<routing::Health> health;
  routing::Now now{std::chrono::sys_days{std::chrono::year{2026} / 12 / 1} + 12h,
                   routing::SteadyTime{}};
};

const Demo& TheDemo() {
  static const Demo demo;
  return demo;
}

routing::RouteRequest Request(routing::TaskType type) {
  routing::RouteRequest r;
  r.features.task_type = type;
  r.features.prompt_tokens = 500;
  r.features.expected_output_tokens = 300;
  return r;
}

void BM_DecideModel(benchmark::State& state) {
  const auto request = Request(routing::TaskType::kChat);
  for (auto _ : state) benchmark::DoNotOptimize(TheDemo().Decide("gpt-5.5", request));
}
BENCHMARK(BM_DecideModel);

void BM_DecideAlias(benchmark::State& state) {
  const auto request = Request(routing::TaskType::kChat);
  for (auto _ : state) benchmark::DoNotOptimize(TheDemo().Decide("economy", request));
}
BENCHMARK(BM_DecideAlias);

void BM_DecideAutoChain(benchmark::State& state) {
  const auto request = Request(routing::TaskType::kExtraction);
  for (auto _ : state) benchmark::DoNotOptimize(TheDemo().Decide("auto", request));
}
BENCHMARK(BM_DecideAutoChain);

// The `facts` rule ranks all 14 demo models: the dearest decision the demo policy makes.
void BM_DecideAutoCheapest(benchmark::State& state) {
  const auto request = Request(routing::TaskType::kFactual);
  for (auto _ : state) benchmark::DoNotOptimize(TheDemo().Decide("auto", request));
}
BENCHMARK(BM_DecideAutoCheapest);

std::string TwoKilobytePrompt() {
  std::string passage =
      "Section 4.2 Refunds. A ticket bought online may be refunded in full up to 24 hours "
      "before departure. After that, a refund of 50 percent is available until departure, "
      "minus a handling fee of 2 euros. Season passes are refunded pro rata for every full "
      "week not yet started. Section 4.3 Delays. When a train arrives more than 60 minutes "
      "late, passengers may claim 25 percent of the fare; above 120 minutes, 50 percent. ";
  while (passage.size() < 1800) passage += passage.substr(0, 200);
  return R"({"model": "auto", "max_tokens": 400, "messages": [)"
         R"({"role": "system", "content": "Answer only from the documents the user supplies."},)"
         R"({"role": "user", "content": "Context:\n)" +
         passage +
         R"(\n\nQuestion: can I still get all my money back for a ticket bought yesterday?"}]})";
}

// What the gateway runs per request between decode and execute. The body is decoded once,
// outside the loop: decoding is the decode stage's cost, not routing's.
void BM_RouteStage(benchmark::State& state) {
  const Demo& demo = TheDemo();
  const std::string body = TwoKilobytePrompt();
  sy::core::Request request;
  request.dialect = sy::core::Dialect::kOpenAiChat;
  if (!sy::api::openai::DecodeChatRequest(body, 64, request)) {
    state.SkipWithError("bad body");
    return;
  }
  const sy::app::RouteHeaders headers{"", "0.05", ""};
  for (auto _ : state) {
    const sy::core::Prompt prompt = sy::app::ReadPrompt(request, body.size());
    auto decision = sy::app::DecideRoute(request, prompt, headers, *demo.policy, *demo.catalog,
                                         *demo.health, demo.now);
    benchmark::DoNotOptimize(decision);
  }
  state.counters["body_bytes"] = static_cast<double>(body.size());
}
BENCHMARK(BM_RouteStage);

// `calibration: live`: what a routed request adds, a score into the histogram (and, every 64th
// request, the threshold's recomputation over 2,048 bins) and, for a budget, its usage. One
// calibrator shared by the threads, as a rule's is by the workers.
routing::ShareCalibrator& LiveShare() {
  static routing::ShareCalibrator live(0.3, 0.57, 10'000);
  return live;
}

routing::ShareCalibrator& LiveBudget(const sy::core::Usage& usage) {
  static const auto& price = TheDemo().catalog->config().models.front().price;
  static routing::ShareCalibrator live(
      0.3, 0.57, 10'000,
      routing::ShareCalibrator::Budget{sy::core::Money::FromPico(2'000'000'000'000), &price, &price,
                                       usage});
  return live;
}

double Score(uint64_t i) { return 0.4 + 0.2 * static_cast<double>(i % 997) / 997.0; }

void BM_LiveCalibrationObserve(benchmark::State& state) {
  routing::ShareCalibrator& live = LiveShare();
  uint64_t i = static_cast<uint64_t>(state.thread_index()) * 499;
  for (auto _ : state) {
    live.Observe(Score(++i));
    benchmark::DoNotOptimize(live.Threshold());
  }
}
BENCHMARK(BM_LiveCalibrationObserve)->Threads(1)->Threads(2)->UseRealTime();

void BM_LiveBudgetObserve(benchmark::State& state) {
  sy::core::Usage usage;
  usage.input_tokens = 800;
  usage.output_tokens = 200;
  usage.reported = true;
  routing::ShareCalibrator& live = LiveBudget(usage);
  uint64_t i = static_cast<uint64_t>(state.thread_index()) * 499;
  for (auto _ : state) {
    live.Observe(Score(++i));
    live.ObserveUsage(usage);
    benchmark::DoNotOptimize(live.Threshold());
  }
}
BENCHMARK(BM_LiveBudgetObserve)->Threads(1)->Threads(2)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
