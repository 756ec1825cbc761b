#include "providers/openai_compat/openai_provider.h"

#include <chrono>
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
using testing::ScriptedClient;

TEST(ParseOpenAiUsage, ReadsEveryCounter) {
  auto usage = ParseOpenAiUsage(boost::json::parse(R"({
      "prompt_tokens": 1200, "completion_tokens": 300, "total_tokens": 1500,
      "prompt_tokens_details": {"cached_tokens": 1024},
      "completion_tokens_details": {"reasoning_tokens": 200}})"));
  ASSERT_TRUE(usage.has_value());
  EXPECT_TRUE(usage->reported);
  EXPECT_EQ(usage->input_tokens, 1200);
  EXPECT_EQ(usage->cached_input_tokens, 1024);
  EXPECT_EQ(usage->output_tokens, 300);
  EXPECT_EQ(usage->reasoning_tokens, 200);
}

TEST(ParseOpenAiUsage, ToleratesMissingDetailsAndNull) {
  auto usage = ParseOpenAiUsage(boost::json::parse(R"({"prompt_tokens":5,"completion_tokens":2,
                                                       "prompt_tokens_details":null})"));
  ASSERT_TRUE(usage.has_value());
  EXPECT_EQ(usage->cached_input_tokens, 0);
  EXPECT_FALSE(ParseOpenAiUsage(boost::json::parse("null")).has_value());
}

// Regression: an upstream writing counts as floats ("prompt_tokens": 1520.0) was served free.
TEST(ParseOpenAiUsage, ACounterItCannotReadIsNoReportedUsage) {
  for (const char* text : {R"({"prompt_tokens":1520.0,"completion_tokens":30})",
                           R"({"prompt_tokens":1520,"completion_tokens":null})", "{}"}) {
    auto usage = ParseOpenAiUsage(boost::json::parse(text));
    ASSERT_TRUE(usage.has_value()) << text;
    EXPECT_FALSE(usage->reported) << text;  // the gateway estimates it
  }
}

// ---- Complete against a scripted client (no network) ----

const char* const kAnswer =
    R"({"id":"chatcmpl-1","object":"chat.completion","created":1765000000,"model":"gpt-5-mini",)"
    R"("choices":[{"index":0,"message":{"role":"assistant","content":"usage: none",)"
    R"("refusal":null},"finish_reason":"stop","usage":{"prompt_tokens":7}}],)"
    R"("usage":{"prompt_tokens":1200,"completion_tokens":300,"total_tokens":1500,)"
    R"("prompt_tokens_details":{"cached_tokens":1024},)"
    R"("completion_tokens_details":{"reasoning_tokens":200}}})";

class OpenAiScriptedTest : public ::testing::Test {
 protected:
  OpenAiScriptedTest() {
    config_.name = "oai";
    config_.kind = "openai";
    config_.base_url = "https://api.openai.com/v1";
    model_.id = "gpt-x";
    model_.upstream_name = "gpt-5-mini";
    request_.dialect = core::Dialect::kOpenAiChat;
    body_ =
        json::parse(R"({"model":"gpt-x","messages":[{"role":"user","content":"Hi"}]})").as_object();
  }

  core::Result<Completion> Complete(std::string body, bool needs_json) {
    client_.response = JsonAnswer(std::move(body));
    auto provider = MakeOpenAiProvider(config_);
    Call call{request_, body_, model_, client_, steady_clock::now() + std::chrono::seconds(5)};
    call.needs_json = needs_json;
    return testutil::RunTask(provider->Complete(call));
  }

  config::ProviderConfig config_;
  config::ModelConfig model_;
  core::Request request_;
  json::object body_;
  ScriptedClient client_;
};

TEST_F(OpenAiScriptedTest, CompleteReadsTheTopLevelUsageWithAndWithoutTheDom) {
  for (const bool needs_json : {true, false}) {
    SCOPED_TRACE(needs_json ? "with the DOM" : "without the DOM");
    auto done = Complete(kAnswer, needs_json);
    ASSERT_TRUE(done.has_value()) << done.error().message;
    EXPECT_EQ(done->body, kAnswer);  // passed on as sent
    EXPECT_EQ(done->content_type, "application/json");
    EXPECT_EQ(done->json.is_null(), !needs_json);
    EXPECT_TRUE(done->usage.reported);
    EXPECT_EQ(done->usage.input_tokens, 1200);
    EXPECT_EQ(done->usage.cached_input_tokens, 1024);
    EXPECT_EQ(done->usage.output_tokens, 300);
    EXPECT_EQ(done->usage.reasoning_tokens, 200);
  }
}

TEST_F(OpenAiScriptedTest, AnswerWithoutUsageIsUnreportedEitherWay) {
  for (const bool needs_json : {true, false}) {
    for (const char* body :
         {R"({"id":"x","choices":[{"usage":{"prompt_tokens":3}}]})",
          R"({"id":"x","choices":[],"usage":null})", R"({"choices":[],"usage":"n/a"})"}) {
      auto done = Complete(body, needs_json);
      ASSERT_TRUE(done.has_value()) << done.error().message;
      EXPECT_FALSE(done->usage.reported) << body;
      EXPECT_EQ(done->usage.input_tokens, 0) << body;
    }
  }
}

// Regression: an answer passed through unchanged was not checked at all, so a 200 carrying an
// error body, or any JSON object, reached the client as a successful completion, was recorded
// as one and never failed over.
TEST_F(OpenAiScriptedTest, A200ThatIsNoCompletionFailsEitherWay) {
  for (const bool needs_json : {true, false}) {
    SCOPED_TRACE(needs_json ? "with the DOM" : "without the DOM");
    auto error = Complete(
        R"({"error":{"message":"The server had an error","type":"server_error"}})", needs_json);
    ASSERT_FALSE(error.has_value());
    EXPECT_EQ(error.error().upstream_status, 500);  // retryable: the chain moves on
    EXPECT_NE(error.error().message.find("The server had an error"), std::string::npos)
        << error.error().message;
    auto refused = Complete(
        R"({"error":{"message":"too long","type":"invalid_request_error","code":"context_length_exceeded"}})",
        needs_json);
    ASSERT_FALSE(refused.has_value());
    EXPECT_EQ(refused.error().upstream_status, 400);  // judged as in a response head
    for (const char* body : {R"({"a":{"a":1}})", R"({"id":"x","choices":{}})",
                             R"({"id":"x","choices":[],"choices":null})"}) {
      auto done = Complete(body, needs_json);
      ASSERT_FALSE(done.has_value()) << body;
      EXPECT_EQ(done.error().code, core::Errc::kUpstreamUnavailable) << body;
      EXPECT_NE(done.error().message.find("without a choices array"), std::string::npos)
          << done.error().message;
    }
    EXPECT_TRUE(Complete(R"({"id":"x","choices":[],"error":null})", needs_json).has_value());
  }
}

// Regression: each answer was held up to 64 MiB with nothing bounding them together (20
// concurrent 70 MB answers took the gateway to 1.2 GB). The completion holds its body's share
// of the client's answer budget until it is destroyed, and an answer past it is refused.
TEST_F(OpenAiScriptedTest, TheAnswerHoldsItsShareOfTheAnswerBudget) {
  const std::string answer =
      R"({"id":"x","choices":[],"usage":{"prompt_tokens":5,"completion_tokens":1}})";
  core::ByteBudget budget(1000);
  client_.set_answer_budget(&budget);
  {
    auto done = Complete(answer, false);
    ASSERT_TRUE(done.has_value()) << done.error().message;
    EXPECT_GE(budget.used(), static_cast<int64_t>(answer.size()));
    EXPECT_EQ(done->held.bytes(), budget.used());
  }
  EXPECT_EQ(budget.used(), 0);
  core::ByteBudget small(static_cast<int64_t>(answer.size()) - 1);
  client_.set_answer_budget(&small);
  auto refused = Complete(answer, false);
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code, core::Errc::kOverloaded);
  EXPECT_NE(refused.error().message.find("server.max_buffered_answer_bytes"), std::string::npos);
  EXPECT_EQ(small.used(), 0);
}

TEST_F(OpenAiScriptedTest, MalformedAnswerIsMalformedUpstreamEitherWay) {
  for (const bool needs_json : {true, false}) {
    for (const char* body : {"", R"({"usage":{"prompt_tokens":1})", R"({"usage":{}} trailing)",
                             R"([{"usage":{}}])", "42", R"("text")"}) {
      auto done = Complete(body, needs_json);
      ASSERT_FALSE(done.has_value()) << body;
      EXPECT_EQ(done.error().code, core::Errc::kUpstreamUnavailable) << body;
      EXPECT_NE(done.error().message.find("malformed JSON"), std::string::npos)
          << done.error().message;
    }
  }
}

// The size the caller estimates an unreported prompt from is that of the body posted: the
// model's upstream name and the stream_options the adapter adds included.
TEST_F(OpenAiScriptedTest, AStreamedCallReportsTheSizeOfTheBodyItSent) {
  request_.stream = true;
  client_.response = std::make_unique<testing::ScriptedResponse>(
      200, testing::SseHeaders(), std::vector<std::string>{"data: [DONE]\n\n"});
  auto provider = MakeOpenAiProvider(config_);
  size_t sent_bytes = 0;
  Call call{request_, body_, model_, client_, steady_clock::now() + std::chrono::seconds(5)};
  call.sent_bytes = &sent_bytes;
  const auto read = testutil::RunTask(testing::ReadStream(*provider, call));
  EXPECT_FALSE(read.error.has_value());
  ASSERT_EQ(client_.sent.size(), 1u);
  EXPECT_EQ(sent_bytes, client_.sent[0].body.size());
  EXPECT_NE(client_.sent[0].body.find("include_usage"), std::string::npos);
}

TEST_F(OpenAiScriptedTest, AnswerDepthFollowsTheRequestsLimitEitherWay) {
  // An answer echoing the request's tools (as some compatible servers add to an answer) nests
  // as deep as the client's body and a little more: 2 * 20 + 4 = 44 levels here.
  const std::string body = R"({"id":"x","choices":[],"tools":[{"type":"function","parameters":)" +
                           testing::NestedSchema(20) +
                           R"(}],"usage":{"prompt_tokens":5,"completion_tokens":1}})";
  for (const bool needs_json : {true, false}) {
    SCOPED_TRACE(needs_json ? "with the DOM" : "without the DOM");
    request_.max_json_depth = 28;  // 28 + 16 = 44 levels allowed
    auto done = Complete(body, needs_json);
    ASSERT_TRUE(done.has_value()) << done.error().message;
    EXPECT_EQ(done->usage.input_tokens, 5);
    request_.max_json_depth = 27;
    done = Complete(body, needs_json);
    ASSERT_FALSE(done.has_value());
    EXPECT_NE(done.error().message.find("malformed JSON"), std::string::npos)
        << done.error().message;
  }
}

}  // namespace
}  // namespace sy::providers
