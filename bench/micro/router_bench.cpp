// BM_RouterScore*: the cost of the learned router's score (router/router.h), which the routing
// policy's router action pays on every request it routes. The model is the shipped one
// (config/router/); the prompts are a ~2 KB free-form one (a system prompt, a supplied passage
// and a question), a ~2 KB multiple-choice exam question (the regime that also runs the topic
// softmax) and a one-line question. The *_Cold rows evict the caches before each score (32 MiB
// written, not timed): the 2.2 MB model as a request meets it after the rest of the gateway
// (parsers, the ledger writer, other connections' buffers) has run, not hot from the last score.
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "bench/micro/sample_prompts.h"
#include "core/prompt.h"
#include "router/router.h"

namespace {

constexpr int kReasoning = 6;  // routing::TaskType::kReasoning as an index

std::string Passage() { return sy::bench::RefundPassage(1850); }

std::string ExamQuestion() {
  std::string text =
      "This question refers to the following information. The treaty, signed after years of "
      "negotiation between the two crowns, settled the borders, the trade in grain and wool, "
      "and the rights of merchants in the ports of either kingdom. ";
  while (text.size() < 1900) text += text.substr(52, 200);
  return text +
         "\nWhich of the following best explains the treaty's effect on trade?\n"
         "A. It raised tariffs on wool\nB. It opened the ports to merchants of both kingdoms\n"
         "C. It banned the grain trade\nD. It had no effect\nAnswer:";
}

std::shared_ptr<const sy::router::Model> LoadModel(benchmark::State& state) {
  auto model = sy::router::Model::Load(std::string(SY_SOURCE_DIR) +
                                       "/config/router/routellm-gpt4-mixtral.syr");
  if (!model) {
    state.SkipWithError(model.error().message.c_str());
    return nullptr;
  }
  return *model;
}

// Writes over a buffer larger than the last-level cache.
void EvictCaches() {
  static std::vector<unsigned char> junk(size_t{32} << 20);
  for (size_t i = 0; i < junk.size(); i += 64) junk[i] = static_cast<unsigned char>(junk[i] + 1);
  benchmark::ClobberMemory();
}

void Score(benchmark::State& state, const std::string& text, bool cold = false) {
  const auto model = LoadModel(state);
  if (model == nullptr) return;
  sy::core::Prompt prompt;
  prompt.AddText(sy::core::PromptRole::kSystem, -1, "You are a careful assistant.");
  prompt.AddText(sy::core::PromptRole::kUser, 0, text);
  prompt.messages = 1;
  prompt.user_turns = 1;
  for (auto _ : state) {
    if (cold) {
      state.PauseTiming();
      EvictCaches();
      state.ResumeTiming();
    }
    benchmark::DoNotOptimize(model->Score(prompt, kReasoning));
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                          static_cast<int64_t>(text.size()));
}

void BM_RouterScore_2KB(benchmark::State& state) { Score(state, Passage()); }
BENCHMARK(BM_RouterScore_2KB);

void BM_RouterScore_2KBOptions(benchmark::State& state) { Score(state, ExamQuestion()); }
BENCHMARK(BM_RouterScore_2KBOptions);

void BM_RouterScore_Short(benchmark::State& state) {
  Score(state, "What is the capital of Australia?");
}
BENCHMARK(BM_RouterScore_Short);

// Cold rows: a fixed count, as each iteration also writes the 32 MiB (about 3 ms, not timed).
void BM_RouterScore_2KB_Cold(benchmark::State& state) { Score(state, Passage(), true); }
BENCHMARK(BM_RouterScore_2KB_Cold)->Iterations(400);

void BM_RouterScore_Short_Cold(benchmark::State& state) {
  Score(state, "What is the capital of Australia?", true);
}
BENCHMARK(BM_RouterScore_Short_Cold)->Iterations(400);

}  // namespace

BENCHMARK_MAIN();
