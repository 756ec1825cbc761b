#include "providers/anthropic/anthropic_events.h"

#include <limits>
#include <vector>

#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

#include "core/json_depth.h"

namespace sy::providers {
namespace {

constexpr int64_t kDepth = core::kDefaultMaxJsonDepth;  // the request's max_json_depth

std::shared_ptr<const core::SecretScrubber> NoSecrets() {
  return std::make_shared<const core::SecretScrubber>();
}

http::SseEvent Sse(std::string name, std::string data) {
  return http::SseEvent{std::move(name), std::move(data)};
}

// message_start with cache counts, as Anthropic sends it for a prompt with cache_control.
constexpr const char* kMessageStart =
    R"({"type":"message_start","message":{"id":"msg_01","type":"message","role":"assistant",)"
    R"("model":"claude-sonnet-4-5","content":[],"stop_reason":null,"stop_sequence":null,)"
    R"("usage":{"input_tokens":25,"cache_creation_input_tokens":100,)"
    R"("cache_read_input_tokens":2000,"output_tokens":1}}})";

TEST(AnthropicEventDecoder, DecodesAFullStream) {
  AnthropicEventDecoder decoder("anthropic", NoSecrets(), kDepth);
  const std::vector<http::SseEvent> stream = {
      Sse("message_start", kMessageStart),
      Sse("content_block_start",
          R"({"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}})"),
      Sse("ping", R"({"type":"ping"})"),
      Sse("content_block_delta",
          R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hi"}})"),
      Sse("some_future_event", R"({"type":"some_future_event","detail":{"x":1}})"),
      Sse("content_block_stop", R"({"type":"content_block_stop","index":0})"),
      Sse("message_delta",
          R"({"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},)"
          R"("usage":{"output_tokens":15}})"),
      Sse("message_stop", R"({"type":"message_stop"})"),
  };
  std::vector<core::StreamEvent> events;
  for (const auto& sse : stream) {
    auto event = decoder.Decode(sse);
    ASSERT_TRUE(event.has_value()) << sse.event << ": " << event.error().message;
    EXPECT_EQ(event->event, sse.event);
    EXPECT_EQ(event->data, sse.data);
    EXPECT_EQ(event->Json().at("type"), sse.event.c_str());
    events.push_back(std::move(*event));
  }
  for (size_t i = 0; i + 1 < events.size(); ++i) {
    EXPECT_FALSE(events[i].terminal) << events[i].event;
    if (events[i].event != "message_delta") {
      EXPECT_FALSE(events[i].usage.has_value()) << events[i].event;
    }
  }
  EXPECT_TRUE(events.back().terminal);
  EXPECT_EQ(events[3].Json().at("delta").at("text"), "Hi");

  // message_delta: message_start's input and cache counts, the delta's output count.
  const auto& usage = events[6].usage;
  ASSERT_TRUE(usage.has_value());
  EXPECT_TRUE(usage->reported);
  EXPECT_EQ(usage->input_tokens, 25 + 100 + 2000);
  EXPECT_EQ(usage->cached_input_tokens, 2000);
  EXPECT_EQ(usage->cache_write_input_tokens, 100);
  EXPECT_EQ(usage->output_tokens, 15);
  EXPECT_EQ(usage->reasoning_tokens, 0);
}

TEST(AnthropicEventDecoder, MessageDeltaThatRestatesInputCountsOverridesThem) {
  AnthropicEventDecoder decoder("anthropic", NoSecrets(), kDepth);
  ASSERT_TRUE(decoder.Decode(Sse("message_start", kMessageStart)).has_value());
  // Newer API versions restate the cumulative input and cache counts in message_delta (they
  // may grow, e.g. with server tools); a null counter is not a statement.
  auto delta = decoder.Decode(
      Sse("message_delta", R"({"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{)"
                           R"("input_tokens":40,"cache_read_input_tokens":2500,)"
                           R"("cache_creation_input_tokens":null,"output_tokens":77}})"));
  ASSERT_TRUE(delta.has_value()) << delta.error().message;
  ASSERT_TRUE(delta->usage.has_value());
  EXPECT_EQ(delta->usage->input_tokens, 40 + 2500 + 100);
  EXPECT_EQ(delta->usage->cached_input_tokens, 2500);
  EXPECT_EQ(delta->usage->cache_write_input_tokens, 100);
  EXPECT_EQ(delta->usage->output_tokens, 77);

  // A later message_delta keeps what the earlier ones stated (the counts are cumulative).
  auto second = decoder.Decode(
      Sse("message_delta", R"({"type":"message_delta","delta":{},"usage":{"output_tokens":80}})"));
  ASSERT_TRUE(second.has_value()) << second.error().message;
  ASSERT_TRUE(second->usage.has_value());
  EXPECT_EQ(second->usage->input_tokens, 40 + 2500 + 100);
  EXPECT_EQ(second->usage->output_tokens, 80);
}

// Without an input count the usage is not billed as 0 input tokens: it is no reported usage,
// which the relay estimates. So is a count it cannot read, in message_start as in the delta.
TEST(AnthropicEventDecoder, UsageWithoutAReadableInputCountIsNotReported) {
  for (const char* start : {R"({"type":"message_start","message":{"id":"m"}})",
                            R"({"type":"message_start","message":{"id":"m","usage":{)"
                            R"("input_tokens":"25","output_tokens":1}}})"}) {
    AnthropicEventDecoder decoder("anthropic", NoSecrets(), kDepth);
    ASSERT_TRUE(decoder.Decode(Sse("message_start", start)).has_value());
    auto delta = decoder.Decode(
        Sse("message_delta", R"({"type":"message_delta","delta":{},"usage":{"output_tokens":3}})"));
    ASSERT_TRUE(delta.has_value()) << delta.error().message;
    ASSERT_TRUE(delta->usage.has_value());
    EXPECT_FALSE(delta->usage->reported) << start;
  }
}

struct ErrorCase {
  const char* type;
  int status;
  core::Errc code;
};

TEST(AnthropicEventDecoder, ErrorEventsFailWithTheStatusTheirTypeImplies) {
  const ErrorCase cases[] = {
      {"invalid_request_error", 400, core::Errc::kUpstreamRejected},
      {"request_too_large", 413, core::Errc::kUpstreamRejected},
      {"overloaded_error", 529, core::Errc::kUpstreamUnavailable},
      {"rate_limit_error", 429, core::Errc::kRateLimited},
      {"api_error", 500, core::Errc::kUpstreamUnavailable},
      {"some_new_error", 500, core::Errc::kUpstreamUnavailable},
  };
  for (const auto& c : cases) {
    AnthropicEventDecoder decoder("claude-eu", NoSecrets(), kDepth);
    ASSERT_TRUE(decoder.Decode(Sse("message_start", kMessageStart)).has_value());
    const std::string data = std::string(R"({"type":"error","error":{"type":")") + c.type +
                             R"(","message":"Things went wrong: )" + c.type + R"("}})";
    auto event = decoder.Decode(Sse("error", data));
    ASSERT_FALSE(event.has_value()) << c.type;
    EXPECT_EQ(event.error().upstream_status, c.status) << c.type;
    EXPECT_EQ(event.error().code, c.code) << c.type;
    EXPECT_NE(event.error().message.find(std::string("Things went wrong: ") + c.type),
              std::string::npos)
        << event.error().message;
    EXPECT_NE(event.error().message.find("claude-eu"), std::string::npos);
    EXPECT_EQ(event.error().upstream_detail, data);
  }
}

TEST(AnthropicEventDecoder, ErrorEventIsScrubbedOfTheProvidersKey) {
  AnthropicEventDecoder decoder("anthropic",
                                std::make_shared<const core::SecretScrubber>(
                                    std::vector<std::string>{"sk-ant-api03-0123456789abcdef"}),
                                kDepth);
  auto event = decoder.Decode(Sse(
      "error",
      R"({"type":"error","error":{"type":"api_error","message":"sk-ant-api03-0123456789abcdef"}})"));
  ASSERT_FALSE(event.has_value());
  EXPECT_EQ(event.error().message.find("sk-ant"), std::string::npos) << event.error().message;
  EXPECT_EQ(event.error().upstream_detail.find("sk-ant"), std::string::npos);
}

// Regression: an error event's param (the path Anthropic's message leads with) was not read, as
// it is from an error body, so the execute stage had nothing to rename for a client of another
// dialect.
TEST(AnthropicEventDecoder, ErrorEventNamesThePathItsMessageLeadsWith) {
  AnthropicEventDecoder decoder("anthropic", NoSecrets(), kDepth);
  auto event = decoder.Decode(
      Sse("error", R"({"type":"error","error":{"type":"invalid_request_error",)"
                   R"("message":"stop_sequences.0: String should have at least 1 character"}})"));
  ASSERT_FALSE(event.has_value());
  EXPECT_EQ(event.error().param, "stop_sequences.0");
  event = decoder.Decode(Sse(
      "error", R"({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}})"));
  ASSERT_FALSE(event.has_value());
  EXPECT_EQ(event.error().param, "");
}

TEST(AnthropicEventDecoder, ErrorEventWithoutDetailsIsStillA500) {
  AnthropicEventDecoder decoder("anthropic", NoSecrets(), kDepth);
  auto event = decoder.Decode(Sse("error", R"({"type":"error"})"));
  ASSERT_FALSE(event.has_value());
  EXPECT_EQ(event.error().upstream_status, 500);
}

TEST(AnthropicEventDecoder, TypeThatDisagreesWithTheEventNameIsMalformed) {
  const std::vector<http::SseEvent> bad = {
      Sse("message_delta", R"({"type":"message_stop"})"),
      Sse("message_stop", R"({"type":"message_delta","usage":{"output_tokens":1}})"),
      Sse("", R"({"type":"message_stop"})"),
      Sse("ping", R"({})"),
      Sse("ping", R"({"type":7})"),
      // A delta is read by a scan, not its DOM: refused alike.
      Sse("content_block_delta", R"({"type":"content_block_stop","delta":{"text":"x"}})"),
      Sse("content_block_delta", R"({"delta":{"text":"x"}})"),
      Sse("content_block_delta", R"({"type":null})"),
      Sse("content_block_delta", R"({"type":"content_block_delta","type":"ping"})"),
  };
  for (const auto& sse : bad) {
    AnthropicEventDecoder decoder("anthropic", NoSecrets(), kDepth);
    auto event = decoder.Decode(sse);
    ASSERT_FALSE(event.has_value()) << sse.event << " " << sse.data;
    EXPECT_EQ(event.error().code, core::Errc::kUpstreamUnavailable);
    EXPECT_EQ(event.error().upstream_status, 0);
    EXPECT_NE(event.error().message.find("differs from its name"), std::string::npos);
  }
}

TEST(AnthropicEventDecoder, DataThatIsNotAJsonObjectIsMalformed) {
  for (const char* name : {"message_stop", "content_block_delta"}) {
    for (const char* data : {"", "not json", "[]", R"("message_stop")", "null", R"({"type":)"}) {
      AnthropicEventDecoder decoder("anthropic", NoSecrets(), kDepth);
      auto event = decoder.Decode(Sse(name, data));
      ASSERT_FALSE(event.has_value()) << name << " " << data;
      EXPECT_EQ(event.error().code, core::Errc::kUpstreamUnavailable) << data;
      EXPECT_NE(event.error().message.find("malformed"), std::string::npos) << data;
    }
  }
}

TEST(AnthropicEventDecoder, ADeltaCarriesWhatItGeneratedAndItsDomOnlyWhenAsked) {
  AnthropicEventDecoder decoder("anthropic", NoSecrets(), kDepth);
  const std::string data =
      R"({"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta",)"
      R"("partial_json":"{\"city\":"}})";
  auto event = decoder.Decode(Sse("content_block_delta", data));
  ASSERT_TRUE(event.has_value()) << event.error().message;
  EXPECT_EQ(event->generated, (core::Generated{8, true}));
  EXPECT_FALSE(event->usage.has_value());
  EXPECT_EQ(event->Json(), boost::json::parse(data));
  // Other events are parsed as before and say nothing of what they generated.
  auto start = decoder.Decode(Sse("message_start", kMessageStart));
  ASSERT_TRUE(start.has_value());
  EXPECT_FALSE(start->generated.has_value());
}

}  // namespace
}  // namespace sy::providers

namespace sy::providers {
namespace {

// Regression (found by the translate fuzz target's sibling bug): input + cache reads + cache
// writes overflowed int64 when an upstream reported huge counts. Such counts are now no usage
// the gateway bills (it estimates instead); the largest it takes still add up exactly.
TEST(ParseAnthropicUsage, ImpossibleCountsAreNotBilledAndTheLargestAddUp) {
  const auto huge = ParseAnthropicUsage(boost::json::parse(
      R"({"input_tokens":9223372036854775807,"cache_read_input_tokens":9223372036854775807,
          "cache_creation_input_tokens":5,"output_tokens":1})"));
  ASSERT_TRUE(huge.has_value());
  EXPECT_FALSE(huge->reported);
  const auto largest = ParseAnthropicUsage(boost::json::parse(
      R"({"input_tokens":1000000000,"cache_read_input_tokens":1000000000,
          "cache_creation_input_tokens":1000000000,"output_tokens":1})"));
  ASSERT_TRUE(largest.has_value());
  EXPECT_TRUE(largest->reported);
  EXPECT_EQ(largest->input_tokens, 3'000'000'000);
}

}  // namespace
}  // namespace sy::providers
