// Reading a complete upstream answer that goes to the client unchanged: its DOM parsed into a
// monotonic arena, as FetchJson does (BM_AnswerDom), against the streaming pass that only checks
// it and rebuilds its usage block (BM_AnswerScan, providers::detail::ScanAnswer). Both end with
// the dialect's usage reading, as the OpenAI Chat adapter does. The argument is the body's size
// in bytes: the load benchmark's chat answer, and one whose content is about 4 KB.
#include <cstdint>
#include <string>

#include <benchmark/benchmark.h>
#include <boost/json/monotonic_resource.hpp>
#include <boost/json/parse.hpp>

#include "core/json_depth.h"
#include "providers/detail/answer_scan.h"
#include "providers/openai_compat/openai_provider.h"

namespace {

namespace json = boost::json;

// As the adapters read answers, at the default server.max_json_depth.
const json::parse_options kAnswerOptions =
    sy::core::EchoParseOptions(sy::core::kDefaultMaxJsonDepth);

// The load benchmark's upstream answer (bench/load/nginx-upstream.conf, 439 bytes) with its
// content padded to about `bytes` bytes with prose (and the escaped line breaks and quotes a
// model's answer has).
std::string ChatAnswer(size_t bytes) {
  const std::string head =
      R"({"id":"chatcmpl-bench0001","object":"chat.completion","created":1735689600,)"
      R"("model":"bench-fast","system_fingerprint":"fp_bench","choices":[{"index":0,)"
      R"("message":{"role":"assistant","content":")";
  const std::string tail =
      R"(","refusal":null},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":14,)"
      R"("completion_tokens":7,"total_tokens":21,"prompt_tokens_details":{"cached_tokens":0},)"
      R"("completion_tokens_details":{"reasoning_tokens":0}}})";
  std::string content = "Hello there, how are you?";
  const std::string prose =
      R"(\nThe gateway reads the \"usage\" block and passes the rest on unchanged. )";
  while (head.size() + content.size() + tail.size() < bytes) content += prose;
  return head + content + tail;
}

int64_t InputTokens(const json::value& usage) {
  auto parsed = sy::providers::ParseOpenAiUsage(usage);
  return parsed ? parsed->input_tokens : -1;
}

void Report(benchmark::State& state, const std::string& body) {
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(body.size()));
  state.counters["body_bytes"] = static_cast<double>(body.size());
}

void BM_AnswerDom(benchmark::State& state) {
  const std::string body = ChatAnswer(static_cast<size_t>(state.range(0)));
  for (auto _ : state) {
    boost::system::error_code ec;
    json::value parsed = json::parse(
        body, ec, json::make_shared_resource<json::monotonic_resource>(), kAnswerOptions);
    const auto* usage = parsed.is_object() ? parsed.get_object().if_contains("usage") : nullptr;
    benchmark::DoNotOptimize(usage ? InputTokens(*usage) : -1);
  }
  Report(state, body);
}
BENCHMARK(BM_AnswerDom)->Arg(439)->Arg(4096);

void BM_AnswerScan(benchmark::State& state) {
  const std::string body = ChatAnswer(static_cast<size_t>(state.range(0)));
  for (auto _ : state) {
    unsigned char buffer[1024];  // as FetchWithUsage reads the usage block: on the stack
    json::monotonic_resource arena(buffer, sizeof(buffer));
    auto scanned = sy::providers::detail::ScanAnswer(body, kAnswerOptions, &arena);
    benchmark::DoNotOptimize(scanned && scanned->usage ? InputTokens(*scanned->usage) : -1);
  }
  Report(state, body);
}
BENCHMARK(BM_AnswerScan)->Arg(439)->Arg(4096);

}  // namespace

BENCHMARK_MAIN();
