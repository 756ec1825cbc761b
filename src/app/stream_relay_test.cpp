#include "app/stream_relay.h"

#include <deque>

#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

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
    co_return !client_gone;
  }
  http::Task<bool> EndStream(const http::Headers& t) override {
    trailers = t;
    ended = true;
    co_return true;
  }
  bool started() const override { return true; }

  std::vector<std::string> writes;
  http::Headers trailers;
  bool ended = false;
  bool client_gone = false;
};

class ScriptedStream final : public providers::EventStream {
 public:
  http::Task<core::Result<std::optional<providers::StreamEvent>>> Next() override {
    if (events.empty()) co_return std::optional<providers::StreamEvent>();
    auto next = std::move(events.front());
    events.pop_front();
    co_return next;
  }
  std::deque<core::Result<std::optional<providers::StreamEvent>>> events;
};

providers::StreamEvent Chunk(std::string data) {
  providers::StreamEvent e;
  e.json = json::parse(data);
  if (const auto* usage = e.json.get_object().if_contains("usage"); usage && usage->is_object()) {
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

class StreamRelayTest : public ::testing::Test {
 protected:
  StreamRelayTest() : ctx_(http_, writer_) {
    model_.id = "m";
    model_.price.standard.input = core::PricePerMTokens::FromMicro(140'000);   // 0.14
    model_.price.standard.output = core::PricePerMTokens::FromMicro(280'000);  // 0.28
    ctx_.model = &model_;
  }
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
  EXPECT_EQ(ctx_.cost->total.ToString(), "0.7");
  EXPECT_EQ(writer_.trailers.Get("x-switchyard-cost-usd"), "0.7");
  EXPECT_EQ(ctx_.record.usage.output_tokens, 2'000'000);
  EXPECT_TRUE(ctx_.record.ttft_ms.has_value());
}

TEST_F(StreamRelayTest, AddsTheCostToTheUsageChunkTheClientAskedFor) {
  ctx_.request.include_usage = true;
  stream_.events.push_back(std::optional(Chunk(kUsage)));
  stream_.events.push_back(std::optional(Done()));
  Relay(Chunk(kContent));
  ASSERT_EQ(writer_.writes.size(), 3u);
  auto usage_chunk = json::parse(writer_.writes[1].substr(6));
  EXPECT_EQ(usage_chunk.at("usage").at("cost_usd").as_string(), "0.7");
}

TEST_F(StreamRelayTest, KeepsContentThatRidesOnTheUsageChunk) {
  Relay(Chunk(
      R"({"choices":[{"index":0,"delta":{"content":"x"}}],"usage":{"prompt_tokens":1,"completion_tokens":1}})"));
  ASSERT_EQ(writer_.writes.size(), 1u);
  auto chunk = json::parse(writer_.writes[0].substr(6));
  EXPECT_FALSE(chunk.as_object().contains("usage"));
  EXPECT_EQ(chunk.at("choices").at(0).at("delta").at("content").as_string(), "x");
}

TEST_F(StreamRelayTest, AFailureMidStreamBecomesAnErrorEventAndNoSwitch) {
  stream_.events.push_back(core::MakeError(core::Errc::kUpstreamUnavailable, "reset"));
  Relay(Chunk(kContent));
  ASSERT_EQ(writer_.writes.size(), 2u);
  auto error = json::parse(writer_.writes[1].substr(6));
  EXPECT_EQ(error.at("error").at("code").as_string(), "upstream_unavailable");
  EXPECT_EQ(ctx_.record.error_code, "upstream_unavailable");
  EXPECT_TRUE(writer_.ended);
  EXPECT_FALSE(ctx_.cost.has_value());
}

TEST_F(StreamRelayTest, StopsReadingWhenTheClientGoesAway) {
  writer_.client_gone = true;
  stream_.events.push_back(std::optional(Chunk(kContent)));
  Relay(Chunk(kContent));
  EXPECT_EQ(writer_.writes.size(), 1u);
  EXPECT_EQ(ctx_.record.error_code, "client_closed");
  EXPECT_EQ(stream_.events.size(), 1u);
}

providers::StreamEvent AnthropicEvent(std::string data) {
  providers::StreamEvent e;
  e.json = json::parse(data);
  e.event = std::string(e.json.at("type").as_string());
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
  EXPECT_EQ(ctx_.record.error_code, "upstream_unavailable");
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
  EXPECT_EQ(ctx_.cost->total.ToString(), "0.7");
  EXPECT_TRUE(ctx_.record.ttft_ms.has_value());
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
  EXPECT_EQ(ctx_.record.error_code, "upstream_unavailable");
  EXPECT_TRUE(writer_.ended);
}

}  // namespace
}  // namespace sy::app
