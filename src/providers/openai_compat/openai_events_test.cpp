#include "providers/openai_compat/openai_events.h"

#include <string>

#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

#include "core/json_depth.h"
#include "core/text.h"

namespace sy::providers {
namespace {

const core::SecretScrubber kNoSecrets;
constexpr int64_t kDepth = core::kDefaultMaxJsonDepth;  // the request's max_json_depth

http::SseEvent Data(std::string data) { return http::SseEvent{"", std::move(data)}; }

TEST(DecodeOpenAiEvent, DoneIsTheTerminalEventWithoutJson) {
  auto event = DecodeOpenAiEvent(Data("[DONE]"), "openai", kNoSecrets, kDepth);
  ASSERT_TRUE(event.has_value()) << event.error().message;
  EXPECT_TRUE(event->terminal);
  EXPECT_TRUE(event->Json().is_null());
  EXPECT_EQ(event->data, "[DONE]");
  EXPECT_FALSE(event->usage.has_value());
}

TEST(DecodeOpenAiEvent, ContentChunkIsParsedAndKeptAsSent) {
  const std::string chunk =
      R"({"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"Hi"}}]})";
  auto event = DecodeOpenAiEvent(Data(chunk), "openai", kNoSecrets, kDepth);
  ASSERT_TRUE(event.has_value()) << event.error().message;
  EXPECT_FALSE(event->terminal);
  EXPECT_EQ(event->data, chunk);
  EXPECT_EQ(event->Json().at("id"), "c1");
  EXPECT_FALSE(event->usage.has_value());
  EXPECT_EQ(event->generated, (core::Generated{2, true}));
}

TEST(DecodeOpenAiEvent, AChunkIsReadWithoutItsDomWhichIsBuiltWhenAsked) {
  const std::string chunk =
      R"({"id":"c1","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":)"
      R"({"name":"f","arguments":"{\"a\":1}"}}]}}],"usage":null})";
  auto event = DecodeOpenAiEvent(Data(chunk), "openai", kNoSecrets, kDepth);
  ASSERT_TRUE(event.has_value()) << event.error().message;
  EXPECT_EQ(event->generated, (core::Generated{7, true}));
  EXPECT_EQ(event->Json(), boost::json::parse(chunk));
  // A copy carries the DOM, or the promise of it, along.
  const core::StreamEvent copy = *event;
  EXPECT_EQ(copy.Json(), boost::json::parse(chunk));
}

TEST(DecodeOpenAiEvent, UsageChunkCarriesTheUsage) {
  auto event = DecodeOpenAiEvent(
      Data(R"({"id":"c1","choices":[],"usage":{"prompt_tokens":120,"completion_tokens":30,)"
           R"("prompt_tokens_details":{"cached_tokens":64},)"
           R"("completion_tokens_details":{"reasoning_tokens":12}}})"),
      "openai", kNoSecrets, kDepth);
  ASSERT_TRUE(event.has_value()) << event.error().message;
  ASSERT_TRUE(event->usage.has_value());
  EXPECT_TRUE(event->usage->reported);
  EXPECT_EQ(event->usage->input_tokens, 120);
  EXPECT_EQ(event->usage->output_tokens, 30);
  EXPECT_EQ(event->usage->cached_input_tokens, 64);
  EXPECT_EQ(event->usage->reasoning_tokens, 12);
  EXPECT_FALSE(event->terminal);
}

TEST(DecodeOpenAiEvent, UsageRidingOnAContentChunkIsRead) {
  // Some OpenAI-compatible servers put the usage on the last content chunk.
  auto event = DecodeOpenAiEvent(
      Data(R"({"choices":[{"index":0,"delta":{"content":"."},"finish_reason":"stop"}],)"
           R"("usage":{"prompt_tokens":7,"completion_tokens":2}})"),
      "vllm", kNoSecrets, kDepth);
  ASSERT_TRUE(event.has_value()) << event.error().message;
  ASSERT_TRUE(event->usage.has_value());
  EXPECT_EQ(event->usage->input_tokens, 7);
  EXPECT_EQ(event->usage->output_tokens, 2);
  EXPECT_EQ(event->Json().at("choices").at(0).at("delta").at("content"), ".");
}

TEST(DecodeOpenAiEvent, NullUsageIsNoUsage) {
  auto event =
      DecodeOpenAiEvent(Data(R"({"choices":[],"usage":null})"), "openai", kNoSecrets, kDepth);
  ASSERT_TRUE(event.has_value()) << event.error().message;
  EXPECT_FALSE(event->usage.has_value());
}

TEST(DecodeOpenAiEvent, ErrorChunkFailsWithTheUpstreamMessage) {
  auto event = DecodeOpenAiEvent(
      Data(R"({"error":{"message":"The server had an error","type":"server_error"}})"), "openai",
      kNoSecrets, kDepth);
  ASSERT_FALSE(event.has_value());
  EXPECT_EQ(event.error().code, core::Errc::kUpstreamUnavailable);
  EXPECT_EQ(event.error().upstream_status, 500);
  EXPECT_NE(event.error().message.find("The server had an error"), std::string::npos);
  EXPECT_NE(event.error().message.find("openai"), std::string::npos);
  EXPECT_NE(event.error().upstream_detail.find("server_error"), std::string::npos);
}

// Regression: every error chunk was taken as a 500, so a prompt the upstream refused mid-stream
// (before the first token) was failed over to the next model instead of going back to the client.
TEST(DecodeOpenAiEvent, ErrorChunkIsJudgedByItsCodeAndType) {
  struct Case {
    const char* data;
    int status;
    core::Errc code;
  };
  const Case cases[] = {
      {R"({"error":{"message":"m","type":"invalid_request_error","code":"context_length_exceeded"}})",
       400, core::Errc::kUpstreamRejected},
      {R"({"error":{"message":"m","type":"tokens","code":"rate_limit_exceeded"}})", 429,
       core::Errc::kRateLimited},
      {R"({"error":{"message":"m","type":"server_error","code":null}})", 500,
       core::Errc::kUpstreamUnavailable},
      {R"({"error":{"message":"m","type":7,"code":["x"]}})", 500, core::Errc::kUpstreamUnavailable},
      {R"({"error":"a bare string"})", 500, core::Errc::kUpstreamUnavailable},
  };
  for (const Case& c : cases) {
    auto event = DecodeOpenAiEvent(Data(c.data), "openai", kNoSecrets, kDepth);
    ASSERT_FALSE(event.has_value()) << c.data;
    EXPECT_EQ(event.error().upstream_status, c.status) << c.data;
    EXPECT_EQ(event.error().code, c.code) << c.data;
  }
}

TEST(DecodeOpenAiEvent, ErrorChunkIsScrubbedOfTheProvidersKey) {
  const core::SecretScrubber secrets({"sk-live-0123456789abcdef"});
  auto event =
      DecodeOpenAiEvent(Data(R"({"error":{"message":"key sk-live-0123456789abcdef was revoked"}})"),
                        "openai", secrets, kDepth);
  ASSERT_FALSE(event.has_value());
  EXPECT_EQ(event.error().message.find("sk-live"), std::string::npos) << event.error().message;
  EXPECT_EQ(event.error().upstream_detail.find("sk-live"), std::string::npos);
  EXPECT_NE(event.error().message.find("key [redacted] was revoked"), std::string::npos);
}

// Regression: a stream's error chunk lost the param it named (only error bodies were read), so
// the execute stage had nothing to rename for a client of another dialect.
TEST(DecodeOpenAiEvent, ErrorChunkNamesItsParamScrubbedAndClipped) {
  auto event = DecodeOpenAiEvent(
      Data(R"({"error":{"message":"bad stop","type":"invalid_request_error","param":"stop"}})"),
      "openai", kNoSecrets, kDepth);
  ASSERT_FALSE(event.has_value());
  EXPECT_EQ(event.error().param, "stop");
  const core::SecretScrubber secrets({"sk-live-0123456789abcdef"});
  event =
      DecodeOpenAiEvent(Data(R"({"error":{"message":"m","param":"x sk-live-0123456789abcdef"}})"),
                        "openai", secrets, kDepth);
  ASSERT_FALSE(event.has_value());
  EXPECT_EQ(event.error().param, "x [redacted]");
  event = DecodeOpenAiEvent(
      Data(R"({"error":{"message":"m","param":")" + std::string(10'000, 'p') + R"("}})"), "openai",
      kNoSecrets, kDepth);
  ASSERT_FALSE(event.has_value());
  EXPECT_LE(event.error().param.size(), core::kMaxEchoBytes + 32);
  event = DecodeOpenAiEvent(Data(R"({"error":{"message":"m","param":null}})"), "openai", kNoSecrets,
                            kDepth);
  ASSERT_FALSE(event.has_value());
  EXPECT_EQ(event.error().param, "");
}

TEST(DecodeOpenAiEvent, NullErrorIsNotAnError) {
  auto event =
      DecodeOpenAiEvent(Data(R"({"choices":[],"error":null})"), "openai", kNoSecrets, kDepth);
  EXPECT_TRUE(event.has_value());
}

TEST(DecodeOpenAiEvent, GarbageIsMalformed) {
  for (const char* data : {"not json", R"({"choices":[)", "[1,2]", "42", R"("text")", ""}) {
    auto event = DecodeOpenAiEvent(Data(data), "openai", kNoSecrets, kDepth);
    ASSERT_FALSE(event.has_value()) << data;
    EXPECT_EQ(event.error().code, core::Errc::kUpstreamUnavailable) << data;
    EXPECT_EQ(event.error().upstream_status, 0) << data;
    EXPECT_NE(event.error().message.find("malformed"), std::string::npos) << data;
  }
}

}  // namespace
}  // namespace sy::providers
