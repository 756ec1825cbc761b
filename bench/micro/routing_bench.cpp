// BM_Classify*: the cost of reading a request's prompt and classifying it, which runs on the hot
// path of every request. The prompt is a realistic ~2 KB one: a system prompt, a supplied
// passage and a question (grounded QA, the longest scan of the common shapes).
#include <string>

#include <benchmark/benchmark.h>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "api/anthropic/prompt.h"
#include "api/openai/prompt.h"
#include "bench/micro/sample_prompts.h"
#include "routing/classify_internal.h"
#include "routing/features.h"
#include "routing/model_internal.h"

namespace {

namespace json = boost::json;

constexpr const char* kSystem =
    "You are a support assistant for Northwind Transit. Answer only from the documents the "
    "user supplies; if the answer is not there, say so. Keep answers short and cite the "
    "section you used.";

std::string Passage() { return sy::bench::RefundPassage(1700); }

json::object OpenAiBody() {
  json::object body;
  body["model"] = "auto";
  body["messages"] = json::array{json::object{{"role", "system"}, {"content", kSystem}},
                                 json::object{{"role", "user"}, {"content", Passage()}}};
  body["max_tokens"] = 400;
  return body;
}

json::object AnthropicBody() {
  json::object body;
  body["model"] = "auto";
  body["system"] = kSystem;
  body["messages"] = json::array{
      json::object{{"role", "user"},
                   {"content", json::array{json::object{{"type", "text"}, {"text", Passage()}}}}}};
  body["max_tokens"] = 400;
  return body;
}

void BM_ClassifyOpenAi(benchmark::State& state) {
  const json::object body = OpenAiBody();
  const size_t bytes = json::serialize(body).size();
  for (auto _ : state) {
    const sy::core::Prompt prompt = sy::api::openai::ReadChatPrompt(body, bytes);
    benchmark::DoNotOptimize(sy::routing::Classify(prompt));
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(bytes));
}
BENCHMARK(BM_ClassifyOpenAi);

void BM_ClassifyAnthropic(benchmark::State& state) {
  const json::object body = AnthropicBody();
  const size_t bytes = json::serialize(body).size();
  for (auto _ : state) {
    const sy::core::Prompt prompt = sy::api::anthropic::ReadMessagesPrompt(body, bytes);
    benchmark::DoNotOptimize(sy::routing::Classify(prompt));
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(bytes));
}
BENCHMARK(BM_ClassifyAnthropic);

void BM_Classify(benchmark::State& state) {
  const json::object body = OpenAiBody();
  const sy::core::Prompt prompt =
      sy::api::openai::ReadChatPrompt(body, json::serialize(body).size());
  for (auto _ : state) benchmark::DoNotOptimize(sy::routing::Classify(prompt));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                          static_cast<int64_t>(prompt.text_bytes));
  state.counters["text_bytes"] = static_cast<double>(prompt.text_bytes);
}
BENCHMARK(BM_Classify);

// The learned model's share of BM_Classify: its feature extraction, then its inference.
void BM_ModelFeatures(benchmark::State& state) {
  namespace detail = sy::routing::detail;
  const json::object body = OpenAiBody();
  const sy::core::Prompt prompt =
      sy::api::openai::ReadChatPrompt(body, json::serialize(body).size());
  detail::Evidence ev;
  detail::GatherEvidence(prompt, ev);
  const sy::routing::Features f = sy::routing::Classify(prompt, sy::routing::TaskType::kChat);
  detail::FeatureVector x;
  for (auto _ : state) {
    detail::ExtractModelFeatures(prompt, ev, sy::routing::TaskType::kChat, f,
                                 detail::ModelConfigInUse(), x);
    benchmark::DoNotOptimize(x);
  }
  state.counters["sparse"] = static_cast<double>(x.sparse_count);
}
BENCHMARK(BM_ModelFeatures);

void BM_ModelPredict(benchmark::State& state) {
  namespace detail = sy::routing::detail;
  const json::object body = OpenAiBody();
  const sy::core::Prompt prompt =
      sy::api::openai::ReadChatPrompt(body, json::serialize(body).size());
  detail::Evidence ev;
  detail::GatherEvidence(prompt, ev);
  const sy::routing::Features f = sy::routing::Classify(prompt, sy::routing::TaskType::kChat);
  detail::FeatureVector x;
  detail::ExtractModelFeatures(prompt, ev, sy::routing::TaskType::kChat, f,
                               detail::ModelConfigInUse(), x);
  for (auto _ : state) benchmark::DoNotOptimize(detail::PredictType(prompt, x));
}
BENCHMARK(BM_ModelPredict);

}  // namespace

BENCHMARK_MAIN();
