#include "providers/openai_compat/responses_provider.h"

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

#include "providers/provider_testing.h"
#include "tests/testutil/run_task.h"

namespace sy::providers {
namespace {

namespace json = boost::json;
using std::chrono::steady_clock;
using testing::JsonAnswer;
using testing::ReadStream;
using testing::ScriptedClient;
using testing::ScriptedResponse;
using testing::SseFrame;
using testing::SseHeaders;
using testing::StreamRead;

const char* const kCompleted =
    R"({"type":"response.completed","sequence_number":5,"response":{"id":"resp_1",)"
    R"("object":"response","status":"completed","output":[],"usage":{"input_tokens":11,)"
    R"("input_tokens_details":{"cached_tokens":0},"output_tokens":4,)"
    R"("output_tokens_details":{"reasoning_tokens":0},"total_tokens":15}}})";

class ResponsesScriptedTest : public ::testing::Test {
 protected:
  ResponsesScriptedTest() {
    config_.name = "oai";
    config_.kind = "openai";
    config_.api = "responses";
    config_.base_url = "https://api.openai.com/v1/";
    config_.api_key = "sk-test-key";
    model_.id = "gpt-x";
    model_.upstream_name = "gpt-5-mini";
    request_.dialect = core::Dialect::kOpenAiResponses;
    body_ = json::parse(R"({"model":"gpt-x","input":"Hi","store":true,)"
                        R"("previous_response_id":"resp_old"})")
                .as_object();
  }

  std::unique_ptr<Provider> Adapter() {
    auto provider = MakeProvider(config_);
    if (!provider) std::abort();
    return std::move(*provider);
  }

  core::Result<Completion> Complete(int status, std::string body) {
    client_.response = JsonAnswer(std::move(body), status);
    auto provider = Adapter();
    Call call{request_, body_, model_, client_, steady_clock::now() + std::chrono::seconds(5)};
    return testutil::RunTask(provider->Complete(call));
  }

  StreamRead Stream(std::vector<std::string> pieces) {
    request_.stream = true;
    body_["stream"] = true;
    client_.response = std::make_unique<ScriptedResponse>(200, SseHeaders(), std::move(pieces));
    auto provider = Adapter();
    Call call{request_, body_, model_, client_, steady_clock::now() + std::chrono::seconds(5)};
    return testutil::RunTask(ReadStream(*provider, call));
  }

  config::ProviderConfig config_;
  config::ModelConfig model_;
  core::Request request_;
  json::object body_;
  ScriptedClient client_;
};

TEST_F(ResponsesScriptedTest, MakeProviderPicksTheResponsesAdapterOnlyForApiResponses) {
  EXPECT_EQ(Adapter()->dialect(), core::Dialect::kOpenAiResponses);
  config_.api = "chat";
  EXPECT_EQ(Adapter()->dialect(), core::Dialect::kOpenAiChat);
}

TEST_F(ResponsesScriptedTest, PostsToResponsesStatelessWithTheBearerKey) {
  auto done = Complete(200, R"({"id":"resp_1","object":"response","status":"completed",)"
                            R"("output":[],"usage":{"input_tokens":11,"output_tokens":4}})");
  ASSERT_TRUE(done.has_value()) << done.error().message;
  ASSERT_EQ(client_.sent.size(), 1u);
  const auto& sent = client_.sent[0];
  EXPECT_EQ(sent.method, "POST");
  EXPECT_EQ(sent.url, "https://api.openai.com/v1/responses");
  EXPECT_EQ(sent.headers.Get("authorization"), "Bearer sk-test-key");
  EXPECT_EQ(sent.headers.Get("accept"), "application/json");
  auto body = json::parse(sent.body);
  EXPECT_EQ(body.at("model"), "gpt-5-mini");
  EXPECT_EQ(body.at("store"), false);
  EXPECT_FALSE(body.as_object().contains("previous_response_id"));
  EXPECT_EQ(body.at("input"), "Hi");
}

TEST_F(ResponsesScriptedTest, CompleteReadsTheResponsesUsage) {
  auto done = Complete(200, R"({"id":"resp_1","object":"response","status":"completed",)"
                            R"("output":[],"usage":{"input_tokens":1200,)"
                            R"("input_tokens_details":{"cached_tokens":1024},"output_tokens":300,)"
                            R"("output_tokens_details":{"reasoning_tokens":200}}})");
  ASSERT_TRUE(done.has_value()) << done.error().message;
  EXPECT_TRUE(done->usage.reported);
  EXPECT_EQ(done->usage.input_tokens, 1200);
  EXPECT_EQ(done->usage.cached_input_tokens, 1024);
  EXPECT_EQ(done->usage.output_tokens, 300);
  EXPECT_EQ(done->usage.reasoning_tokens, 200);
}

// A Response object echoing a function tool whose parameters nest `levels` properties deep:
// 2 * levels + 4 levels in all (response, tools, tool, then the schema).
std::string ResponseEchoingTools(int levels) {
  return R"({"id":"resp_1","object":"response","status":"completed","tools":[{"type":"function",)"
         R"("name":"f","parameters":)" +
         testing::NestedSchema(levels) +
         R"(}],"output":[],"usage":{"input_tokens":90,"output_tokens":9}})";
}

TEST_F(ResponsesScriptedTest, AnswerEchoingADeepToolSchemaIsReadWithItsUsage) {
  // Regression: answers were parsed at Boost.JSON's default depth (32), so the billed answer to a
  // request with a tool schema 20 properties deep (within max_json_depth) was "malformed JSON".
  request_.max_json_depth = 64;
  auto done = Complete(200, ResponseEchoingTools(20));  // 44 levels
  ASSERT_TRUE(done.has_value()) << done.error().message;
  EXPECT_TRUE(done->usage.reported);
  EXPECT_EQ(done->usage.input_tokens, 90);
  EXPECT_EQ(done->usage.output_tokens, 9);
}

TEST_F(ResponsesScriptedTest, AnswerDeeperThanTheRequestsDepthAllowsIsMalformed) {
  request_.max_json_depth = 27;  // 27 + 16 = 43 levels allowed
  auto done = Complete(200, ResponseEchoingTools(20));
  ASSERT_FALSE(done.has_value());
  EXPECT_EQ(done.error().code, core::Errc::kUpstreamUnavailable);
  EXPECT_NE(done.error().message.find("malformed JSON"), std::string::npos) << done.error().message;
}

TEST_F(ResponsesScriptedTest, FailedResponseIsAnUpstreamFailureWithoutTheKey) {
  auto done = Complete(200, R"({"id":"resp_1","object":"response","status":"failed",)"
                            R"("error":{"code":"server_error","message":"sk-test-key failed"}})");
  ASSERT_FALSE(done.has_value());
  EXPECT_EQ(done.error().code, core::Errc::kUpstreamUnavailable);
  EXPECT_NE(done.error().message.find("failed"), std::string::npos) << done.error().message;
  EXPECT_EQ(done.error().message.find("sk-test-key"), std::string::npos);
  EXPECT_EQ(done.error().upstream_detail.find("sk-test-key"), std::string::npos);
}

// As a failed Response's stream event does, a complete failed Response names its param.
TEST_F(ResponsesScriptedTest, FailedResponseNamesTheParamItsErrorGives) {
  auto done = Complete(200, R"({"id":"resp_1","object":"response","status":"failed",)"
                            R"("error":{"code":"invalid_prompt","message":"m","param":"input"}})");
  ASSERT_FALSE(done.has_value());
  EXPECT_EQ(done.error().param, "input");
  // And is judged by its code: a refused prompt, not a failure to fail over from.
  EXPECT_EQ(done.error().upstream_status, 400);
  EXPECT_EQ(done.error().code, core::Errc::kUpstreamRejected);
}

TEST_F(ResponsesScriptedTest, StreamEndsOnCompletedWithItsUsage) {
  auto read =
      Stream({SseFrame("response.created", R"({"type":"response.created","sequence_number":0,)"
                                           R"("response":{"id":"resp_1","status":"in_progress"}})"),
              SseFrame("response.output_text.delta",
                       R"({"type":"response.output_text.delta","sequence_number":3,"delta":"Hi"})"),
              SseFrame("response.completed", kCompleted)});
  ASSERT_FALSE(read.error) << read.error->message;
  ASSERT_EQ(read.events.size(), 3u);
  EXPECT_EQ(client_.sent.at(0).headers.Get("accept"), "text/event-stream");
  EXPECT_EQ(json::parse(client_.sent.at(0).body).at("stream"), true);
  EXPECT_FALSE(read.events[1].usage.has_value());
  EXPECT_TRUE(read.events[2].terminal);
  ASSERT_TRUE(read.events[2].usage.has_value());
  EXPECT_EQ(read.events[2].usage->input_tokens, 11);
  EXPECT_EQ(read.events[2].usage->output_tokens, 4);
}

TEST_F(ResponsesScriptedTest, StreamEchoingADeepToolSchemaEndsWithItsUsage) {
  // response.created and response.completed echo the request's tools (45 levels here).
  const std::string tools =
      R"("tools":[{"type":"function","name":"f","parameters":)" + testing::NestedSchema(20) + "}]";
  auto read = Stream(
      {SseFrame("response.created", R"({"type":"response.created","sequence_number":0,)"
                                    R"("response":{"id":"resp_1","status":"in_progress",)" +
                                        tools + "}}"),
       SseFrame("response.completed",
                R"({"type":"response.completed","sequence_number":1,"response":{"id":"resp_1",)"
                R"("status":"completed",)" +
                    tools + R"(,"output":[],"usage":{"input_tokens":90,"output_tokens":9}}})")});
  ASSERT_FALSE(read.error) << read.error->message;
  ASSERT_EQ(read.events.size(), 2u);
  EXPECT_TRUE(read.events[1].terminal);
  ASSERT_TRUE(read.events[1].usage.has_value());
  EXPECT_EQ(read.events[1].usage->input_tokens, 90);
  EXPECT_EQ(read.events[1].usage->output_tokens, 9);
}

TEST_F(ResponsesScriptedTest, StreamThatEndsBeforeCompletedIsMalformed) {
  auto read = Stream({SseFrame("response.created", R"({"type":"response.created",)"
                                                   R"("sequence_number":0,"response":{}})")});
  ASSERT_TRUE(read.error.has_value());
  EXPECT_EQ(read.error->code, core::Errc::kUpstreamUnavailable);
  EXPECT_NE(read.error->message.find("ended before response.completed"), std::string::npos)
      << read.error->message;
  EXPECT_EQ(read.events.size(), 1u);
}

TEST_F(ResponsesScriptedTest, FailedEventFailsTheStream) {
  auto read = Stream(
      {SseFrame("response.created",
                R"({"type":"response.created","sequence_number":0,"response":{}})"),
       SseFrame("response.failed",
                R"({"type":"response.failed","sequence_number":1,"response":{"status":"failed",)"
                R"("error":{"code":"server_error","message":"The model crashed"}}})")});
  ASSERT_TRUE(read.error.has_value());
  EXPECT_EQ(read.error->code, core::Errc::kUpstreamUnavailable);
  EXPECT_NE(read.error->message.find("The model crashed"), std::string::npos);
  EXPECT_EQ(read.events.size(), 1u);
}

}  // namespace
}  // namespace sy::providers
