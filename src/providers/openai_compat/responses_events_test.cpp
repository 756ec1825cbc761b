#include "providers/openai_compat/responses_events.h"

#include <string>
#include <utility>

#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

#include "core/json_depth.h"
#include "providers/provider_testing.h"

namespace sy::providers {
namespace {

const core::SecretScrubber kNoSecrets;
constexpr int64_t kDepth = core::kDefaultMaxJsonDepth;  // the request's max_json_depth

http::SseEvent Typed(std::string name, std::string data) {
  return http::SseEvent{std::move(name), std::move(data)};
}

TEST(ParseResponsesUsage, ReadsEveryCounter) {
  auto usage = ParseResponsesUsage(boost::json::parse(R"({
      "input_tokens": 1200, "input_tokens_details": {"cached_tokens": 1024},
      "output_tokens": 300, "output_tokens_details": {"reasoning_tokens": 200},
      "total_tokens": 1500})"));
  ASSERT_TRUE(usage.has_value());
  EXPECT_TRUE(usage->reported);
  EXPECT_EQ(usage->input_tokens, 1200);
  EXPECT_EQ(usage->cached_input_tokens, 1024);
  EXPECT_EQ(usage->output_tokens, 300);
  EXPECT_EQ(usage->reasoning_tokens, 200);
}

TEST(ParseResponsesUsage, ToleratesMissingDetails) {
  auto usage = ParseResponsesUsage(
      boost::json::parse(R"({"input_tokens":5,"output_tokens":2,"input_tokens_details":null})"));
  ASSERT_TRUE(usage.has_value());
  EXPECT_TRUE(usage->reported);
  EXPECT_EQ(usage->output_tokens, 2);
  EXPECT_EQ(usage->cached_input_tokens, 0);
  EXPECT_FALSE(ParseResponsesUsage(boost::json::parse("null")).has_value());
}

// Regression: "2" was billed as 0 output tokens, reported.
TEST(ParseResponsesUsage, ACounterItCannotReadIsNoReportedUsage) {
  auto usage = ParseResponsesUsage(boost::json::parse(R"({"input_tokens":5,"output_tokens":"2"})"));
  ASSERT_TRUE(usage.has_value());
  EXPECT_FALSE(usage->reported);  // the gateway estimates it
  EXPECT_EQ(usage->input_tokens, 0);
}

TEST(ResponsesFailureOf, FailedStatusOrErrorObjectIsAFailure) {
  EXPECT_EQ(ResponsesFailureOf(boost::json::parse(
                R"({"status":"failed","error":{"code":"server_error","message":"boom"}})")),
            "boom");
  EXPECT_EQ(ResponsesFailureOf(boost::json::parse(R"({"status":"failed","error":null})")), "");
  EXPECT_EQ(ResponsesFailureOf(boost::json::parse(R"({"error":{"message":"bad"}})")), "bad");
  EXPECT_FALSE(ResponsesFailureOf(boost::json::parse(R"({"status":"completed","error":null})")));
  EXPECT_FALSE(ResponsesFailureOf(boost::json::parse(R"({"status":"incomplete"})")));
}

TEST(DecodeResponsesEvent, DeltaIsPassedThroughAsSent) {
  const std::string data =
      R"({"type":"response.output_text.delta","item_id":"msg_1","output_index":0,)"
      R"("content_index":0,"delta":"Hi","sequence_number":4})";
  auto event =
      DecodeResponsesEvent(Typed("response.output_text.delta", data), "oai", kNoSecrets, kDepth);
  ASSERT_TRUE(event.has_value()) << event.error().message;
  EXPECT_EQ(event->event, "response.output_text.delta");
  EXPECT_EQ(event->data, data);
  EXPECT_EQ(event->Json().at("delta"), "Hi");
  EXPECT_FALSE(event->terminal);
  EXPECT_FALSE(event->usage.has_value());
  EXPECT_EQ(event->generated, (core::Generated{2, true}));
}

// Deltas are read by a scan and carry what they generated; reasoning is not content.
TEST(DecodeResponsesEvent, EachDeltaSaysWhatItGenerated) {
  const std::pair<const char*, core::Generated> kDeltas[] = {
      {"response.output_text.delta", {5, true}},
      {"response.function_call_arguments.delta", {5, true}},
      {"response.refusal.delta", {5, true}},
      {"response.reasoning_text.delta", {5, false}},
      {"response.reasoning_summary_text.delta", {5, false}},
  };
  for (const auto& [type, generated] : kDeltas) {
    const std::string data =
        std::string(R"({"type":")") + type +
        R"(","item_id":"x","output_index":0,"delta":"ab\"de","sequence_number":1})";
    auto event = DecodeResponsesEvent(Typed(type, data), "oai", kNoSecrets, kDepth);
    ASSERT_TRUE(event.has_value()) << type << ": " << event.error().message;
    EXPECT_EQ(event->event, type);
    EXPECT_EQ(event->generated, generated) << type;
    EXPECT_EQ(event->Json(), boost::json::parse(data)) << type;
  }
  // An event without a name is parsed as the others are, and says nothing of what it generated.
  auto unnamed =
      DecodeResponsesEvent(Typed("", R"({"type":"response.output_text.delta","delta":"Hi"})"),
                           "oai", kNoSecrets, kDepth);
  ASSERT_TRUE(unnamed.has_value());
  EXPECT_EQ(unnamed->event, "response.output_text.delta");
  EXPECT_FALSE(unnamed->generated.has_value());
}

TEST(DecodeResponsesEvent, CompletedAndIncompleteAreTerminalWithUsage) {
  for (std::string type : {"response.completed", "response.incomplete"}) {
    auto event = DecodeResponsesEvent(
        Typed(type, R"({"type":")" + type +
                        R"(","sequence_number":9,"response":{"id":"resp_1","status":"x",)"
                        R"("usage":{"input_tokens":20,"input_tokens_details":{"cached_tokens":8},)"
                        R"("output_tokens":7,"output_tokens_details":{"reasoning_tokens":3}}}})"),
        "oai", kNoSecrets, kDepth);
    ASSERT_TRUE(event.has_value()) << event.error().message;
    EXPECT_TRUE(event->terminal) << type;
    ASSERT_TRUE(event->usage.has_value());
    EXPECT_EQ(event->usage->input_tokens, 20);
    EXPECT_EQ(event->usage->cached_input_tokens, 8);
    EXPECT_EQ(event->usage->output_tokens, 7);
    EXPECT_EQ(event->usage->reasoning_tokens, 3);
  }
}

TEST(DecodeResponsesEvent, EventWithoutSseNameTakesItsType) {
  auto event = DecodeResponsesEvent(
      Typed("", R"({"type":"response.created","sequence_number":0,"response":{}})"), "oai",
      kNoSecrets, kDepth);
  ASSERT_TRUE(event.has_value()) << event.error().message;
  EXPECT_EQ(event->event, "response.created");
}

TEST(DecodeResponsesEvent, FailedResponseIsAnUpstreamFailureWithItsScrubbedMessage) {
  const core::SecretScrubber secrets({"sk-secret-123"});
  auto event = DecodeResponsesEvent(
      Typed("response.failed",
            R"({"type":"response.failed","sequence_number":3,"response":{"status":"failed",)"
            R"("error":{"code":"server_error","message":"key sk-secret-123 broke"}}})"),
      "oai", secrets, kDepth);
  ASSERT_FALSE(event.has_value());
  EXPECT_EQ(event.error().code, core::Errc::kUpstreamUnavailable);
  EXPECT_NE(event.error().message.find("broke"), std::string::npos) << event.error().message;
  EXPECT_EQ(event.error().message.find("sk-secret-123"), std::string::npos);
}

TEST(DecodeResponsesEvent, ErrorEventIsAnUpstreamFailure) {
  auto event = DecodeResponsesEvent(
      Typed("error", R"({"type":"error","code":"server_error","message":"Overloaded",)"
                     R"("param":null,"sequence_number":2})"),
      "oai", kNoSecrets, kDepth);
  ASSERT_FALSE(event.has_value());
  EXPECT_EQ(event.error().code, core::Errc::kUpstreamUnavailable);
  EXPECT_NE(event.error().message.find("Overloaded"), std::string::npos) << event.error().message;
}

// Regression: every error event and failed Response was a 500, so a prompt refused mid-stream
// was failed over to the next model instead of going back to the client.
TEST(DecodeResponsesEvent, ErrorAndFailedEventsAreJudgedByTheirCode) {
  struct Case {
    const char* name;
    const char* data;
    int status;
  };
  const Case cases[] = {
      {"error",
       R"({"type":"error","code":"rate_limit_exceeded","message":"m","sequence_number":1})", 429},
      {"error",
       R"({"type":"error","code":"invalid_request_error","message":"m","sequence_number":1})", 400},
      {"error", R"({"type":"error","code":null,"message":"m","sequence_number":1})", 500},
      {"response.failed",
       R"({"type":"response.failed","sequence_number":3,"response":{"status":"failed",)"
       R"("error":{"code":"invalid_prompt","message":"m"}}})",
       400},
      {"response.failed",
       R"({"type":"response.failed","sequence_number":3,"response":{"status":"failed",)"
       R"("error":{"code":"vector_store_timeout","message":"m"}}})",
       504},
      {"response.failed",
       R"({"type":"response.failed","sequence_number":3,"response":{"status":"failed",)"
       R"("error":null}})",
       500},
  };
  for (const Case& c : cases) {
    auto event = DecodeResponsesEvent(Typed(c.name, c.data), "oai", kNoSecrets, kDepth);
    ASSERT_FALSE(event.has_value()) << c.data;
    EXPECT_EQ(event.error().upstream_status, c.status) << c.data;
  }
}

// Regression: the param of a stream's error event and of a failed Response was not read (only
// error bodies' was), so the execute stage had nothing to rename for a client of another dialect.
TEST(DecodeResponsesEvent, ErrorAndFailedEventsNameTheirParamScrubbed) {
  const core::SecretScrubber secrets({"sk-secret-123"});
  auto error = DecodeResponsesEvent(
      Typed("error", R"({"type":"error","code":"invalid_request_error","message":"too few",)"
                     R"("param":"max_output_tokens","sequence_number":2})"),
      "oai", secrets, kDepth);
  ASSERT_FALSE(error.has_value());
  EXPECT_EQ(error.error().param, "max_output_tokens");
  error = DecodeResponsesEvent(
      Typed("error", R"({"type":"error","code":"x","message":"m","param":"sk-secret-123",)"
                     R"("sequence_number":2})"),
      "oai", secrets, kDepth);
  ASSERT_FALSE(error.has_value());
  EXPECT_EQ(error.error().param, "[redacted]");
  auto failed = DecodeResponsesEvent(
      Typed("response.failed",
            R"({"type":"response.failed","sequence_number":3,"response":{"status":"failed",)"
            R"("error":{"code":"invalid_prompt","message":"bad","param":"text.format.schema"}}})"),
      "oai", secrets, kDepth);
  ASSERT_FALSE(failed.has_value());
  EXPECT_EQ(failed.error().param, "text.format.schema");
  failed = DecodeResponsesEvent(
      Typed("response.failed",
            R"({"type":"response.failed","sequence_number":3,"response":{"status":"failed",)"
            R"("error":{"code":"server_error","message":"bad"}}})"),
      "oai", secrets, kDepth);
  ASSERT_FALSE(failed.has_value());
  EXPECT_EQ(failed.error().param, "");
}

// response.completed echoing a function tool whose parameters nest `levels` properties deep:
// 2 * levels + 5 levels in all (event, response, tools, tool, then the schema).
std::string CompletedEchoingTools(int levels) {
  return R"({"type":"response.completed","sequence_number":9,"response":{"id":"resp_1",)"
         R"("status":"completed","tools":[{"type":"function","name":"f","parameters":)" +
         testing::NestedSchema(levels) +
         R"(}],"output":[],"usage":{"input_tokens":20,"output_tokens":7}}})";
}

TEST(DecodeResponsesEvent, EventEchoingADeepToolSchemaIsReadUpToTheRequestsDepth) {
  // Regression: events were parsed at Boost.JSON's default depth (32). A request with a tool
  // schema 20 properties deep (44 levels, within the default max_json_depth of 64) had its
  // response.completed, which echoes the tools, refused as malformed after the upstream billed
  // it: no usage recorded, and the attempt counted against the deployment's health.
  auto event = DecodeResponsesEvent(Typed("response.completed", CompletedEchoingTools(20)), "oai",
                                    kNoSecrets, core::kDefaultMaxJsonDepth);
  ASSERT_TRUE(event.has_value()) << event.error().message;
  EXPECT_TRUE(event->terminal);
  ASSERT_TRUE(event->usage.has_value());
  EXPECT_EQ(event->usage->input_tokens, 20);
  EXPECT_EQ(event->usage->output_tokens, 7);
}

TEST(DecodeResponsesEvent, EventDeeperThanTheRequestsDepthAllowsIsRefused) {
  // 45 levels: within the echo allowance of a request accepted at 29 levels (29 + 16), past
  // that of one accepted at 28.
  const std::string data = CompletedEchoingTools(20);
  EXPECT_TRUE(
      DecodeResponsesEvent(Typed("response.completed", data), "oai", kNoSecrets, 29).has_value());
  auto event = DecodeResponsesEvent(Typed("response.completed", data), "oai", kNoSecrets, 28);
  ASSERT_FALSE(event.has_value());
  EXPECT_EQ(event.error().code, core::Errc::kUpstreamUnavailable);
  EXPECT_NE(event.error().message.find("malformed"), std::string::npos) << event.error().message;
}

TEST(DecodeResponsesEvent, MalformedEventsAreRefused) {
  for (auto sse :
       {Typed("response.created", "not json"), Typed("response.created", "[1]"),
        Typed("response.created", R"({"sequence_number":0})"),
        Typed("response.created", R"({"type":"response.completed"})"),
        Typed("response.completed", R"({"type":"response.completed"})"),
        // A delta is read by a scan, not its DOM: refused alike.
        Typed("response.output_text.delta", "not json"),
        Typed("response.output_text.delta", R"({"delta":"x"})"),
        Typed("response.output_text.delta", R"({"type":"response.refusal.delta"})"),
        Typed("response.output_text.delta", R"({"type":["response.output_text.delta"]})")}) {
    auto event = DecodeResponsesEvent(sse, "oai", kNoSecrets, kDepth);
    ASSERT_FALSE(event.has_value()) << sse.data;
    EXPECT_EQ(event.error().code, core::Errc::kUpstreamUnavailable);
  }
}

}  // namespace
}  // namespace sy::providers
