#include "app/stream_relay.h"

#include <deque>
#include <string>
#include <string_view>

#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

#include "app/pipeline.h"
#include "app/services_testing.h"
#include "http/sse.h"
#include "tests/testutil/memory_ledger_sink.h"
#include "tests/testutil/run_task.h"

namespace sy::app {
namespace {

namespace json = boost::json;

class RecordingWriter final : public http::ResponseWriter {
 public:
  http::Task<bool> Send(int, const http::Headers&, std::string) override { co_return true; }
  http::Task<bool> StartStream(int, const http::Headers&) override { co_return true; }
  http::Task<bool> Write(std::string_view data) override {
    writes.emplace_back(data);
    co_return !client_gone && writes.size() < gone_after;
  }
  http::Task<bool> EndStream(const http::Headers& t) override {
    trailers = t;
    ended = true;
    co_return true;
  }
  // WriteAndEnd is the interface's: recorded as the write (when there is data) and the end.
  bool started() const override { return true; }

  std::vector<std::string> writes;
  http::Headers trailers;
  bool ended = false;
  bool client_gone = false;
  size_t gone_after = SIZE_MAX;  // writes after this many fail, as if the client left
};

class ScriptedStream final : public providers::EventStream {
 public:
  http::Task<core::Result<std::optional<providers::StreamEvent>>> Next() override {
    if (events.empty()) co_return std::optional<providers::StreamEvent>();
    auto next = std::move(events.front());
    events.pop_front();
    co_return next;
  }
  std::optional<core::Result<std::optional<providers::StreamEvent>>> NextBuffered() override {
    if (buffered == 0 || events.empty()) return std::nullopt;
    --buffered;
    auto next = std::move(events.front());
    events.pop_front();
    return next;
  }
  std::deque<core::Result<std::optional<providers::StreamEvent>>> events;
  size_t buffered = 0;  // how many of `events` came in with the bytes read before them
};

providers::StreamEvent Chunk(std::string data) {
  providers::StreamEvent e;
  e.SetJson(json::parse(data));
  if (const auto* usage = e.Json().get_object().if_contains("usage"); usage && usage->is_object()) {
    core::Usage u;
    u.reported = true;
    u.input_tokens = usage->at("prompt_tokens").as_int64();
    u.output_tokens = usage->at("completion_tokens").as_int64();
    e.usage = u;
  }
  e.data = std::move(data);
  return e;
}

providers::StreamEvent Done() {
  providers::StreamEvent e;
  e.data = "[DONE]";
  e.terminal = true;
  return e;
}

constexpr const char* kContent =
    R"({"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"Hi"}}]})";
constexpr const char* kUsage =
    R"({"id":"c","object":"chat.completion.chunk","choices":[],"usage":{"prompt_tokens":1000000,"completion_tokens":2000000}})";

class StreamRelayTest : public ::testing::Test, protected DefaultServices {
 protected:
  StreamRelayTest() : ctx_(http_, writer_, services_) {
    model_.id = "m";
    model_.price.standard.input = core::PricePerMTokens::FromMicro(140'000);   // 0.14
    model_.price.standard.output = core::PricePerMTokens::FromMicro(280'000);  // 0.28
    ctx_.model = &model_;
    ctx_.attempts.push_back({&model_, failover::Outcome::kOk});
  }
  std::string Cost() const { return RequestCost(ctx_).value_or(core::Money()).ToString(); }
  const core::Usage& Billed() const { return *ctx_.attempts.back().usage; }
  void Relay(providers::StreamEvent first, core::Dialect upstream = core::Dialect::kOpenAiChat) {
    StreamRelay relay(ctx_, stream_, upstream);
    testutil::RunTask([&]() -> http::Task<bool> {
      co_await relay.Run(std::move(first));
      co_return true;
    }());
  }

  http::ServerRequest http_;
  RecordingWriter writer_;
  RequestContext ctx_;
  config::ModelConfig model_;
  ScriptedStream stream_;
};

TEST_F(StreamRelayTest, StripsTheUsageChunkTheClientDidNotAskFor) {
  stream_.events.push_back(std::optional(Chunk(kUsage)));
  stream_.events.push_back(std::optional(Done()));
  Relay(Chunk(kContent));
  ASSERT_EQ(writer_.writes.size(), 2u);
  EXPECT_EQ(writer_.writes[0], std::string("data: ") + kContent + "\n\n");
  EXPECT_EQ(writer_.writes[1], "data: [DONE]\n\n");
  // 1M input at 0.14 + 2M output at 0.28 = 0.70, recorded and sent as a trailer.
  EXPECT_EQ(Cost(), "0.7");
  EXPECT_EQ(writer_.trailers.Get("x-switchyard-cost-usd"), "0.7");
  EXPECT_EQ(Billed().output_tokens, 2'000'000);
  EXPECT_FALSE(Billed().estimated);
  EXPECT_TRUE(ctx_.outcome.ttft_ms.has_value());
}

// Regression: an upstream that ignores stream_options.include_usage (vLLM, llama.cpp and Ollama
// versions do) ended its stream cleanly with nothing billed, so any client could stream for free.
TEST_F(StreamRelayTest, AStreamThatEndsWithoutUsageIsBilledByEstimate) {
  ctx_.attempts.back().request_bytes = 400;  // ~100 prompt tokens sent upstream
  stream_.events.push_back(std::optional(Chunk(kContent)));
  stream_.events.push_back(std::optional(Done()));
  Relay(Chunk(kContent));
  EXPECT_TRUE(ctx_.outcome.error_code.empty());
  ASSERT_TRUE(ctx_.attempts.back().usage.has_value());
  EXPECT_TRUE(Billed().estimated);
  EXPECT_FALSE(Billed().reported);
  EXPECT_EQ(Billed().input_tokens, 100);
  EXPECT_EQ(Billed().output_tokens, 2);  // two deltas of "Hi": 4 bytes, at least a token each
  // 100 x 0.14/M + 2 x 0.28/M = 0.000014 + 0.00000056
  EXPECT_EQ(Cost(), "0.00001456");
  EXPECT_EQ(writer_.trailers.Get("x-switchyard-cost-usd"), "0.00001456");
}

// An upstream that ignores stream_options.include_usage left a client that asked for usage
// without its usage chunk (and so without the cost): it now gets the billed estimate, marked.
TEST_F(StreamRelayTest, AClientThatAskedForUsageGetsTheEstimateWhenTheUpstreamSentNone) {
  ctx_.request.include_usage = true;
  ctx_.attempts.back().request_bytes = 400;
  constexpr const char* kFirst =
      R"({"id":"c1","object":"chat.completion.chunk","created":7,"model":"m-up","choices":[{"index":0,"delta":{"content":"Hi"}}]})";
  stream_.events.push_back(std::optional(Chunk(kContent)));
  stream_.events.push_back(std::optional(Done()));
  Relay(Chunk(kFirst));
  std::string all;
  for (const auto& w : writer_.writes) all += w;
  const size_t usage_at = all.find("data: {\"id\":\"c1\"", 1);
  ASSERT_NE(usage_at, std::string::npos) << all;
  const size_t end = all.find("\n\n", usage_at);
  const json::value chunk = json::parse(all.substr(usage_at + 6, end - usage_at - 6));
  EXPECT_EQ(chunk.at("created").as_int64(), 7);
  EXPECT_EQ(chunk.at("model").as_string(), "m-up");
  EXPECT_TRUE(chunk.at("choices").as_array().empty());
  const json::object& usage = chunk.at("usage").as_object();
  EXPECT_EQ(usage.at("prompt_tokens").as_int64(), 100);
  EXPECT_EQ(usage.at("completion_tokens").as_int64(), 2);
  EXPECT_EQ(usage.at("total_tokens").as_int64(), 102);
  EXPECT_TRUE(usage.at("estimated").as_bool());
  EXPECT_EQ(usage.at("cost_usd").as_string(), "0.00001456");
  EXPECT_EQ(all.substr(end + 2), "data: [DONE]\n\n");
  EXPECT_TRUE(Billed().estimated);
  EXPECT_EQ(writer_.trailers.Get("x-switchyard-cost-usd"), "0.00001456");
}

TEST_F(StreamRelayTest, EventsThatArrivedTogetherGoOutInOneWrite) {
  ctx_.request.include_usage = true;
  stream_.events.push_back(std::optional(Chunk(kContent)));
  stream_.events.push_back(std::optional(Chunk(kUsage)));
  stream_.events.push_back(std::optional(Done()));
  stream_.buffered = 3;
  Relay(Chunk(kContent));
  ASSERT_EQ(writer_.writes.size(), 1u);
  const std::string content = std::string("data: ") + kContent + "\n\n";
  EXPECT_TRUE(writer_.writes[0].starts_with(content + content + "data: {"));
  EXPECT_TRUE(writer_.writes[0].ends_with("\n\ndata: [DONE]\n\n"));
  EXPECT_NE(writer_.writes[0].find(R"("cost_usd":"0.7")"), std::string::npos);
  EXPECT_TRUE(writer_.ended);
  EXPECT_EQ(writer_.trailers.Get("x-switchyard-cost-usd"), "0.7");
}

TEST_F(StreamRelayTest, WhatArrivedIsWrittenBeforeWaitingForMore) {
  stream_.events.push_back(std::optional(Chunk(kContent)));  // came with the first
  stream_.events.push_back(std::optional(Chunk(kContent)));  // waited for
  stream_.events.push_back(std::optional(Done()));           // waited for
  stream_.buffered = 1;
  Relay(Chunk(kContent));
  const std::string content = std::string("data: ") + kContent + "\n\n";
  ASSERT_EQ(writer_.writes.size(), 3u);
  EXPECT_EQ(writer_.writes[0], content + content);
  EXPECT_EQ(writer_.writes[1], content);
  EXPECT_EQ(writer_.writes[2], "data: [DONE]\n\n");
}

TEST_F(StreamRelayTest, ABufferedFailureEndsTheStreamAfterWhatCameBeforeIt) {
  stream_.events.push_back(std::optional(Chunk(kContent)));
  stream_.events.push_back(core::MakeError(core::Errc::kUpstreamUnavailable, "broke off"));
  stream_.buffered = 2;
  Relay(Chunk(kContent));
  const std::string content = std::string("data: ") + kContent + "\n\n";
  // The events, then the error event, in one write.
  ASSERT_EQ(writer_.writes.size(), 1u);
  EXPECT_TRUE(writer_.writes[0].starts_with(content + content));
  EXPECT_NE(writer_.writes[0].find("broke off", (content + content).size()), std::string::npos);
  EXPECT_TRUE(writer_.ended);
  EXPECT_EQ(ctx_.outcome.error_code, "upstream_unavailable");
  EXPECT_TRUE(Billed().estimated);
}

TEST_F(StreamRelayTest, AClientGoneDuringABatchedWriteIsRecorded) {
  stream_.events.push_back(std::optional(Chunk(kContent)));
  stream_.events.push_back(std::optional(Done()));
  stream_.buffered = 2;
  writer_.gone_after = 0;
  Relay(Chunk(kContent));
  ASSERT_EQ(writer_.writes.size(), 1u);
  EXPECT_EQ(ctx_.outcome.error_code, "client_closed");
  EXPECT_FALSE(writer_.ended);
  EXPECT_TRUE(Billed().estimated);
}

TEST_F(StreamRelayTest, AddsTheCostToTheUsageChunkTheClientAskedFor) {
  ctx_.request.include_usage = true;
  stream_.events.push_back(std::optional(Chunk(kUsage)));
  stream_.events.push_back(std::optional(Done()));
  Relay(Chunk(kContent));
  ASSERT_EQ(writer_.writes.size(), 3u);
  auto usage_chunk = json::parse(writer_.writes[1].substr(6));
  EXPECT_EQ(usage_chunk.at("usage").at("cost_usd").as_string(), "0.7");
  EXPECT_FALSE(usage_chunk.at("usage").as_object().contains("estimated"));
}

// Regression: a usage chunk whose counts the gateway cannot read ("prompt_tokens": 1520.0) was
// billed as 0 tokens, reported. It is billed by estimate, and its cost is the estimate's.
TEST_F(StreamRelayTest, AUsageChunkItCannotReadIsBilledByEstimate) {
  ctx_.request.include_usage = true;
  ctx_.attempts.back().request_bytes = 400;
  providers::StreamEvent unreadable;
  unreadable.data =
      R"({"id":"c","object":"chat.completion.chunk","choices":[],"usage":{"prompt_tokens":1520.0,"completion_tokens":2}})";
  unreadable.SetJson(json::parse(unreadable.data));
  unreadable.usage = core::Usage{};  // as providers::ParseOpenAiUsage reads it: not reported
  stream_.events.push_back(std::optional(std::move(unreadable)));
  stream_.events.push_back(std::optional(Done()));
  Relay(Chunk(kContent));
  EXPECT_TRUE(Billed().estimated);
  EXPECT_EQ(Billed().input_tokens, 100);
  EXPECT_EQ(Billed().output_tokens, 1);
  // 100 x 0.14/M + 1 x 0.28/M
  EXPECT_EQ(Cost(), "0.00001428");
  ASSERT_EQ(writer_.writes.size(), 3u);
  auto usage_chunk = json::parse(writer_.writes[1].substr(6));
  EXPECT_EQ(usage_chunk.at("usage").at("cost_usd").as_string(), "0.00001428");
  // The counts beside the cost are the upstream's unreadable ones: the cost says it is an
  // estimate (review of this stop: only the gateway's own usage chunk said so).
  EXPECT_TRUE(usage_chunk.at("usage").at("estimated").as_bool());
}

TEST_F(StreamRelayTest, KeepsContentThatRidesOnTheUsageChunk) {
  Relay(Chunk(
      R"({"choices":[{"index":0,"delta":{"content":"x"}}],"usage":{"prompt_tokens":1,"completion_tokens":1}})"));
  ASSERT_EQ(writer_.writes.size(), 1u);
  auto chunk = json::parse(writer_.writes[0].substr(6));
  EXPECT_FALSE(chunk.as_object().contains("usage"));
  EXPECT_EQ(chunk.at("choices").at(0).at("delta").at("content").as_string(), "x");
}

// Regression: an upstream event whose data spans several lines (pretty-printed JSON) was
// passed through as one "data: " line with raw line breaks in it, which SSE clients cannot read.
TEST_F(StreamRelayTest, APrettyPrintedUpstreamEventPassesThroughAsValidSse) {
  const std::string pretty =
      "{\n  \"id\": \"c\",\n  \"object\": \"chat.completion.chunk\",\n"
      "  \"choices\": [{\"index\": 0, \"delta\": {\"content\": \"Hi\"}}]\n}";
  stream_.events.push_back(std::optional(Done()));
  Relay(Chunk(pretty));
  ASSERT_EQ(writer_.writes.size(), 2u);
  http::SseParser parser;
  parser.Feed(writer_.writes[0]);
  auto event = parser.Next();
  ASSERT_TRUE(event) << writer_.writes[0];
  EXPECT_EQ(event->data, pretty);
  EXPECT_FALSE(parser.has_partial()) << writer_.writes[0];
  // Every line before the blank one that ends the event is a data field (a stray line would be
  // read as a field name).
  for (std::string_view rest = writer_.writes[0]; rest != "\n";) {
    const size_t end = rest.find('\n');
    ASSERT_NE(end, std::string_view::npos) << writer_.writes[0];
    EXPECT_TRUE(rest.starts_with("data: ")) << rest.substr(0, end);
    rest.remove_prefix(end + 1);
  }
  EXPECT_EQ(json::parse(event->data).at("choices").at(0).at("delta").at("content").as_string(),
            "Hi");
}

TEST_F(StreamRelayTest, AFailureMidStreamBecomesAnErrorEventAndNoSwitch) {
  stream_.events.push_back(core::MakeError(core::Errc::kUpstreamUnavailable, "reset"));
  Relay(Chunk(kContent));
  ASSERT_EQ(writer_.writes.size(), 2u);
  auto error = json::parse(writer_.writes[1].substr(6));
  EXPECT_EQ(error.at("error").at("code").as_string(), "upstream_unavailable");
  EXPECT_EQ(ctx_.outcome.error_code, "upstream_unavailable");
  EXPECT_TRUE(writer_.ended);
  // The usage never came: estimated from what was relayed ("Hi": one delta, one token).
  EXPECT_TRUE(Billed().estimated);
  EXPECT_EQ(Billed().output_tokens, 1);
  EXPECT_EQ(Cost(), "0.00000028");
}

TEST_F(StreamRelayTest, StopsReadingWhenTheClientGoesAway) {
  writer_.client_gone = true;
  stream_.events.push_back(std::optional(Chunk(kContent)));
  Relay(Chunk(kContent));
  EXPECT_EQ(writer_.writes.size(), 1u);
  EXPECT_EQ(ctx_.outcome.error_code, "client_closed");
  EXPECT_EQ(stream_.events.size(), 1u);
}

TEST_F(StreamRelayTest, AClientThatLeavesIsBilledForWhatWasRelayed) {
  // Regression: a stream abandoned after 18 words was recorded with 0 output tokens and $0.
  ctx_.attempts.back().request_bytes = 400;  // ~100 prompt tokens sent upstream
  for (int i = 0; i < 17; ++i) {
    stream_.events.push_back(std::optional(Chunk(
        R"({"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":" word"}}]})")));
  }
  writer_.gone_after = 18;
  Relay(Chunk(kContent));
  EXPECT_EQ(ctx_.outcome.error_code, "client_closed");
  ASSERT_TRUE(ctx_.attempts.back().usage.has_value());
  EXPECT_TRUE(Billed().estimated);
  EXPECT_EQ(Billed().input_tokens, 100);
  // 18 deltas were generated ("Hi" and 17 x " word", the last one's write failed): 87 bytes,
  // so the larger estimate is 87 / 4 rounded up = 22 tokens.
  EXPECT_EQ(Billed().output_tokens, 22);
  // 100 x 0.14/M + 22 x 0.28/M = 0.000014 + 0.00000616
  EXPECT_EQ(Cost(), "0.00002016");
}

// Regression: the estimate counted the client's own body. A Responses request that continues a
// stored conversation (previous_response_id) is ~80 bytes, and the gateway sends the upstream the
// whole conversation: leaving after the first delta recorded ~20 input tokens for a prompt the
// provider bills at ~50k.
TEST_F(StreamRelayTest, TheEstimatedPromptIsTheBodySentUpstreamNotTheClients) {
  http_.body = R"({"model":"m","previous_response_id":"resp_1","input":"hi","stream":true})";
  ctx_.attempts.back().request_bytes = 200'000;  // the expanded conversation, as posted
  stream_.events.push_back(std::optional(Chunk(kContent)));
  writer_.gone_after = 1;
  Relay(Chunk(kContent));
  EXPECT_EQ(ctx_.outcome.error_code, "client_closed");
  ASSERT_TRUE(ctx_.attempts.back().usage.has_value());
  EXPECT_TRUE(Billed().estimated);
  EXPECT_EQ(Billed().input_tokens, 50'000);
}

TEST_F(StreamRelayTest, AShutdownCutEndsTheStreamWithAnErrorEventAndAnEstimate) {
  http_.cancelled = http::CancelReason::kShutdown;
  stream_.events.push_back(core::MakeError(core::Errc::kUpstreamUnavailable, "operation aborted"));
  Relay(Chunk(kContent));
  ASSERT_EQ(writer_.writes.size(), 2u);
  auto error = json::parse(writer_.writes[1].substr(6));
  EXPECT_NE(std::string(error.at("error").at("message").as_string()).find("shutting down"),
            std::string::npos);
  EXPECT_EQ(ctx_.outcome.error_code, "shutdown");
  EXPECT_TRUE(Billed().estimated);
  EXPECT_TRUE(writer_.ended);
}

providers::StreamEvent AnthropicEvent(std::string data) {
  providers::StreamEvent e;
  e.SetJson(json::parse(data));
  e.event = std::string(e.Json().at("type").as_string());
  e.data = std::move(data);
  return e;
}

constexpr const char* kMessageStart =
    R"({"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant",)"
    R"("model":"m","content":[],"stop_reason":null,"stop_sequence":null,)"
    R"("usage":{"input_tokens":1000000,"output_tokens":1}}})";

TEST_F(StreamRelayTest, AnthropicClientsGetTheCostInMessageDelta) {
  ctx_.request.dialect = core::Dialect::kAnthropicMessages;
  auto delta = AnthropicEvent(
      R"({"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":2000000}})");
  core::Usage usage;
  usage.reported = true;
  usage.input_tokens = 1'000'000;
  usage.output_tokens = 2'000'000;
  delta.usage = usage;
  stream_.events.push_back(std::optional(std::move(delta)));
  auto stop = AnthropicEvent(R"({"type":"message_stop"})");
  stop.terminal = true;
  stream_.events.push_back(std::optional(std::move(stop)));
  Relay(AnthropicEvent(kMessageStart), core::Dialect::kAnthropicMessages);
  ASSERT_EQ(writer_.writes.size(), 3u);
  EXPECT_EQ(writer_.writes[0].rfind("event: message_start\ndata: ", 0), 0u);
  ASSERT_EQ(writer_.writes[1].rfind("event: message_delta\ndata: ", 0), 0u);
  auto body = json::parse(writer_.writes[1].substr(writer_.writes[1].find("data: ") + 6));
  EXPECT_EQ(body.at("usage").at("cost_usd").as_string(), "0.7");
  EXPECT_EQ(writer_.writes[2], "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n");
  EXPECT_EQ(writer_.trailers.Get("x-switchyard-cost-usd"), "0.7");
}

TEST_F(StreamRelayTest, AnthropicClientsGetAnErrorEventWhenTheStreamBreaks) {
  ctx_.request.dialect = core::Dialect::kAnthropicMessages;
  stream_.events.push_back(core::MakeError(core::Errc::kUpstreamUnavailable, "reset"));
  Relay(AnthropicEvent(kMessageStart), core::Dialect::kAnthropicMessages);
  ASSERT_EQ(writer_.writes.size(), 2u);
  ASSERT_EQ(writer_.writes[1].rfind("event: error\ndata: ", 0), 0u);
  auto error = json::parse(writer_.writes[1].substr(writer_.writes[1].find("data: ") + 6));
  EXPECT_EQ(error.at("type").as_string(), "error");
  EXPECT_EQ(error.at("error").at("type").as_string(), "api_error");
  EXPECT_EQ(ctx_.outcome.error_code, "upstream_unavailable");
}

TEST_F(StreamRelayTest, TranslatesAnOpenAiUpstreamForAnAnthropicClient) {
  ctx_.request.dialect = core::Dialect::kAnthropicMessages;
  stream_.events.push_back(std::optional(Chunk(kUsage)));
  stream_.events.push_back(std::optional(Done()));
  Relay(Chunk(kContent), core::Dialect::kOpenAiChat);
  std::string all;
  for (const auto& w : writer_.writes) all += w;
  for (const char* name : {"message_start", "ping", "content_block_start", "content_block_delta",
                           "content_block_stop", "message_delta", "message_stop"}) {
    EXPECT_NE(all.find(std::string("event: ") + name + "\n"), std::string::npos) << name;
  }
  EXPECT_EQ(all.find("[DONE]"), std::string::npos);
  EXPECT_NE(all.find(R"("cost_usd":"0.7")"), std::string::npos) << all;
  EXPECT_EQ(Cost(), "0.7");
  EXPECT_TRUE(ctx_.outcome.ttft_ms.has_value());
}

// Regression: the OpenAI -> Anthropic translator holds the usage chunk until [DONE]; a stream cut
// between the two was billed an estimate (about 1 output token here) instead of the 2M output
// tokens the upstream had reported.
TEST_F(StreamRelayTest, ATranslatedStreamCutAfterItsUsageIsBilledWhatTheUpstreamReported) {
  ctx_.request.dialect = core::Dialect::kAnthropicMessages;
  stream_.events.push_back(std::optional(Chunk(kUsage)));
  stream_.events.push_back(core::MakeError(core::Errc::kUpstreamUnavailable, "reset"));
  Relay(Chunk(kContent), core::Dialect::kOpenAiChat);
  EXPECT_EQ(ctx_.outcome.error_code, "upstream_unavailable");
  EXPECT_TRUE(Billed().reported);
  EXPECT_FALSE(Billed().estimated);
  EXPECT_EQ(Billed().output_tokens, 2'000'000);
  EXPECT_EQ(Cost(), "0.7");
  EXPECT_EQ(writer_.trailers.Get("x-switchyard-cost-usd"), "0.7");
}

// Regression: an upstream's error event mid-stream named the parameter as the translated body
// did ("stop"), not as the client sent it; AttemptOn renames it only for a stream's first event.
TEST_F(StreamRelayTest, AnUpstreamErrorMidStreamNamesTheClientsParameter) {
  ctx_.request.dialect = core::Dialect::kAnthropicMessages;
  core::Error upstream = core::MakeError(core::Errc::kUpstreamUnavailable,
                                         "provider p answered 500: 'stop' is not allowed");
  upstream.upstream_status = 500;
  upstream.param = "stop";
  stream_.events.push_back(upstream);
  Relay(Chunk(kContent), core::Dialect::kOpenAiChat);
  ASSERT_FALSE(writer_.writes.empty());
  const std::string& last = writer_.writes.back();
  ASSERT_EQ(last.rfind("event: error\ndata: ", 0), 0u) << last;
  const auto error = json::parse(last.substr(last.find("data: ") + 6));
  const std::string message(error.at("error").at("message").as_string());
  EXPECT_EQ(message.rfind("stop_sequences: stream interrupted", 0), 0u) << message;
}

TEST_F(StreamRelayTest, AnUpstreamEventThatCannotBeReframedEndsTheStreamWithAnError) {
  // A tool-call fragment for a block that was already closed cannot be re-framed.
  ctx_.request.dialect = core::Dialect::kAnthropicMessages;
  stream_.events.push_back(std::optional(Chunk(
      R"({"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"id":"b","type":"function","function":{"name":"g","arguments":""}}]}}]})")));
  stream_.events.push_back(std::optional(Chunk(
      R"({"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{}"}}]}}]})")));
  Relay(
      Chunk(
          R"({"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"a","type":"function","function":{"name":"f","arguments":""}}]}}]})"),
      core::Dialect::kOpenAiChat);
  ASSERT_FALSE(writer_.writes.empty());
  EXPECT_EQ(writer_.writes.back().rfind("event: error\n", 0), 0u) << writer_.writes.back();
  EXPECT_EQ(ctx_.outcome.error_code, "upstream_unavailable");
  EXPECT_TRUE(writer_.ended);
}

}  // namespace
}  // namespace sy::app
