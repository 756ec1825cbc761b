// Reading a streamed event that goes to the client unchanged. *Dom: what the decoders and the
// relay did before, the event parsed into a DOM and read from it (its error, its usage, what it
// generated). *Decode: the decoder as it is, one scan that checks the event and reads the same
// (detail::ScanOpenAiChunk, detail::ScanAnthropicDelta), the DOM left unbuilt. The events are a
// Chat Completions content chunk as the emulator sends it (300 bytes), an Anthropic text delta
// (96 bytes) and a Responses output_text delta (145 bytes). Per event: a 500-token answer streams
// about 500 of them.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include <benchmark/benchmark.h>
#include <boost/json/parse.hpp>

#include "core/json_depth.h"
#include "core/secrets.h"
#include "providers/anthropic/anthropic_events.h"
#include "providers/openai_compat/openai_events.h"
#include "providers/openai_compat/openai_provider.h"
#include "providers/openai_compat/responses_events.h"
#include "providers/stream_generated.h"

namespace {

namespace json = boost::json;

const json::parse_options kOptions = sy::core::EchoParseOptions(sy::core::kDefaultMaxJsonDepth);

const std::string kOpenAiChunk =
    R"({"id":"chatcmpl-uY9aoCMOvC0GMpLvQkv8B1EAsA79G","object":"chat.completion.chunk",)"
    R"("created":1796548178,"model":"gpt-4o-mini","service_tier":"default",)"
    R"("system_fingerprint":"fp_363427a326","choices":[{"index":0,"delta":{"content":" so with"},)"
    R"("logprobs":null,"finish_reason":null}],"usage":null})";

const std::string kAnthropicDelta =
    R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":" so with"}})";

const std::string kResponsesDelta =
    R"({"type":"response.output_text.delta","item_id":"msg_68f1a2b3c4d5e6f7","output_index":0,)"
    R"("content_index":0,"delta":" so with","sequence_number":12})";

void BM_OpenAiChunkDom(benchmark::State& state) {
  for (auto _ : state) {
    boost::system::error_code ec;
    json::value chunk = json::parse(kOpenAiChunk, ec, {}, kOptions);
    const auto& obj = chunk.get_object();
    const auto* error = obj.if_contains("error");
    const auto* usage = obj.if_contains("usage");
    benchmark::DoNotOptimize(error && !error->is_null());
    benchmark::DoNotOptimize(usage ? sy::providers::ParseOpenAiUsage(*usage) : std::nullopt);
    benchmark::DoNotOptimize(sy::providers::ChunkGenerated(chunk));
  }
}
BENCHMARK(BM_OpenAiChunkDom);

void BM_OpenAiChunkDecode(benchmark::State& state) {
  const sy::core::SecretScrubber secrets;
  for (auto _ : state) {
    auto event = sy::providers::DecodeOpenAiEvent(sy::http::SseEvent{"", kOpenAiChunk}, "openai",
                                                  secrets, sy::core::kDefaultMaxJsonDepth);
    benchmark::DoNotOptimize(event->generated);
  }
}
BENCHMARK(BM_OpenAiChunkDecode);

// A delta event's DOM read as the relay did: its type checked, then the bytes it generated.
void BM_DeltaDom(benchmark::State& state, const std::string& data, std::string_view type,
                 size_t (*bytes)(const json::value&)) {
  for (auto _ : state) {
    boost::system::error_code ec;
    json::value event = json::parse(data, ec, {}, kOptions);
    const auto* t = event.get_object().if_contains("type");
    benchmark::DoNotOptimize(t && t->is_string() && t->get_string() == type);
    benchmark::DoNotOptimize(bytes(event));
  }
}
BENCHMARK_CAPTURE(BM_DeltaDom, anthropic, kAnthropicDelta, "content_block_delta",
                  &sy::providers::AnthropicDeltaBytes);
BENCHMARK_CAPTURE(BM_DeltaDom, responses, kResponsesDelta, "response.output_text.delta",
                  &sy::providers::ResponsesDeltaBytes);

void BM_AnthropicDeltaDecode(benchmark::State& state) {
  sy::providers::AnthropicEventDecoder decoder("anthropic",
                                               std::make_shared<const sy::core::SecretScrubber>(),
                                               sy::core::kDefaultMaxJsonDepth);
  for (auto _ : state) {
    auto event = decoder.Decode(sy::http::SseEvent{"content_block_delta", kAnthropicDelta});
    benchmark::DoNotOptimize(event->generated);
  }
}
BENCHMARK(BM_AnthropicDeltaDecode);

void BM_ResponsesDeltaDecode(benchmark::State& state) {
  const sy::core::SecretScrubber secrets;
  for (auto _ : state) {
    auto event = sy::providers::DecodeResponsesEvent(
        sy::http::SseEvent{"response.output_text.delta", kResponsesDelta}, "openai", secrets,
        sy::core::kDefaultMaxJsonDepth);
    benchmark::DoNotOptimize(event->generated);
  }
}
BENCHMARK(BM_ResponsesDeltaDecode);

}  // namespace

BENCHMARK_MAIN();
