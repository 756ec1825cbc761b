// Chat Completions <-> a Responses upstream: the cases the goldens do not show (refusals with
// their paths, defaults, malformed upstream answers and events).
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "api/translate/translate.h"
#include "api/translate/translate_test_util.h"

namespace sy::api::translate {
namespace {

namespace json = boost::json;
using core::Dialect;
using test_util::Event;
using test_util::J;
using test_util::MakeUsage;
using test_util::O;

core::Result<json::object> ToResponses(std::string_view body) {
  return TranslateRequest(Dialect::kOpenAiChat, Dialect::kOpenAiResponses, O(body));
}

void ExpectRefused(std::string_view body, std::string_view param, std::string_view says) {
  auto out = ToResponses(body);
  ASSERT_FALSE(out.has_value()) << json::serialize(*out);
  EXPECT_EQ(out.error().code, core::Errc::kInvalidRequest);
  EXPECT_EQ(out.error().param, param);
  EXPECT_NE(out.error().message.find(says), std::string::npos) << out.error().message;
  EXPECT_NE(out.error().message.find("OpenAI Responses API"), std::string::npos);
}

TEST(ChatToResponsesRequest, RefusesWhatResponsesCannotExpressByItsPath) {
  ExpectRefused(R"({"messages":[{"role":"user","content":[{"type":"text","text":"hi"},)"
                R"({"type":"input_audio","input_audio":{"data":"AAAA","format":"wav"}}]}]})",
                "messages[0].content[1]", "audio input");
  ExpectRefused(R"({"messages":[],"logprobs":true,"top_logprobs":2})", "logprobs",
                "log probabilities");
  ExpectRefused(R"({"messages":[],"presence_penalty":0.5})", "presence_penalty", "non-zero");
  ExpectRefused(R"({"messages":[],"logit_bias":{"1234":-100}})", "logit_bias", "logit");
  ExpectRefused(R"({"messages":[],"modalities":["text","audio"]})", "modalities", "audio");
  ExpectRefused(R"({"messages":[],"web_search_options":{}})", "web_search_options", "web search");
  ExpectRefused(R"({"messages":[],"tools":[{"type":"custom","custom":{"name":"x"}}]})",
                "tools[0].type", "custom");
  ExpectRefused(R"({"messages":[],"frobnicate":1})", "frobnicate", "frobnicate");
  ExpectRefused(R"({"messages":[{"role":"function","name":"f","content":"1"}]})",
                "messages[0].role", "function");
  // The Responses API's floor for max_output_tokens is 16: named in the client's notation.
  ExpectRefused(R"({"messages":[],"max_tokens":9})", "max_tokens", "below 16");
  ExpectRefused(R"({"messages":[],"max_tokens":100,"max_completion_tokens":15})",
                "max_completion_tokens", "below 16");
  EXPECT_TRUE(ToResponses(R"({"messages":[],"max_completion_tokens":16})").has_value());
}

TEST(ChatToResponsesRequest, DefaultsThatDifferBetweenTheApis) {
  auto out = ToResponses(
      R"({"messages":[{"role":"user","content":"hi"}],"response_format":{"type":"json_object"},)"
      R"("tools":[{"type":"function","function":{"name":"f","parameters":{"type":"object"}}}],)"
      R"("tool_choice":"required","prediction":{"type":"content","content":"x"},"store":true})");
  ASSERT_TRUE(out.has_value()) << out.error().message;
  EXPECT_EQ(out->at("text"), J(R"({"format":{"type":"json_object"}})"));
  EXPECT_EQ(out->at("tools").at(0).at("strict"), false);  // Responses would default it to true
  EXPECT_EQ(out->at("tool_choice"), "required");
  EXPECT_EQ(out->at("store"), false);
  EXPECT_FALSE(out->contains("prediction"));
  EXPECT_FALSE(out->contains("instructions"));
}

TEST(ResponsesToChatResponse, RefusalAndContentFilter) {
  auto out = TranslateResponse(
      Dialect::kOpenAiResponses, Dialect::kOpenAiChat,
      J(R"({"id":"resp_1","created_at":5,"model":"m","status":"incomplete",)"
        R"("incomplete_details":{"reason":"content_filter"},"output":[{"type":"message",)"
        R"("role":"assistant","content":[{"type":"refusal","refusal":"I can't help."}]}]})"),
      MakeUsage(10, 0, 0, 3), Context{});
  ASSERT_TRUE(out.has_value()) << out.error().message;
  auto chat = J(*out);
  EXPECT_EQ(chat.at("choices").at(0).at("message").at("refusal"), "I can't help.");
  EXPECT_TRUE(chat.at("choices").at(0).at("message").at("content").is_null());
  EXPECT_EQ(chat.at("choices").at(0).at("finish_reason"), "content_filter");
}

// A created_at that is no whole number (1e400 parses as infinity) is replaced by the gateway's
// own time: copied, it made the client's body unparseable (fuzz_translate_response).
TEST(ResponsesToChatResponse, CreatedIsCopiedOnlyAsAWholeNumber) {
  for (const auto* created : {"1e400", "1.5", "-1e400", "\"5\"", "18446744073709551615"}) {
    Context ctx;
    ctx.created_unix_s = 1700000000;
    auto out = TranslateResponse(Dialect::kOpenAiResponses, Dialect::kOpenAiChat,
                                 J(std::string(R"({"id":"resp_1","created_at":)") + created +
                                   R"(,"model":"m","output":[{"type":"message","role":"assistant",)"
                                   R"("content":[{"type":"output_text","text":"hi"}]}]})"),
                                 MakeUsage(1, 0, 0, 1), ctx);
    ASSERT_TRUE(out.has_value()) << created << ": " << out.error().message;
    boost::system::error_code ec;
    const auto chat = boost::json::parse(*out, ec);
    ASSERT_FALSE(ec) << created << ": " << *out;
    EXPECT_EQ(chat.at("created"), 1700000000) << created;
  }
}

TEST(ResponsesToChatResponse, MalformedAnswersAreUpstreamFailures) {
  for (auto body : {R"({"output":[]})", R"({"id":"r","output":[{"content":[]}]})",
                    R"({"id":"r","output":[{"type":"function_call","call_id":"c","name":"f",)"
                    R"("arguments":"[1]"}]})"}) {
    auto out = TranslateResponse(Dialect::kOpenAiResponses, Dialect::kOpenAiChat, J(body),
                                 MakeUsage(1, 0, 0, 1), Context{});
    ASSERT_FALSE(out.has_value()) << body;
    EXPECT_EQ(out.error().code, core::Errc::kUpstreamUnavailable);
  }
}

std::vector<core::StreamEvent> Created() {
  return {Event("response.created", R"({"type":"response.created","sequence_number":0,)"
                                    R"("response":{"id":"resp_1","created_at":7,"model":"m"}})")};
}

TEST(ResponsesToChatStream, ErrorAndFailedEventsFailTheStream) {
  for (auto [name, data] :
       {std::pair{"error", R"({"type":"error","code":"server_error","message":"boom"})"},
        std::pair{"response.failed",
                  R"({"type":"response.failed","response":{"error":{"message":"boom"}}})"}}) {
    auto t = MakeStreamTranslator(Dialect::kOpenAiResponses, Dialect::kOpenAiChat, Context{});
    std::vector<core::StreamEvent> out;
    ASSERT_TRUE(t->Feed(Created()[0], out).has_value());
    auto s = t->Feed(Event(name, data), out);
    ASSERT_FALSE(s.has_value()) << name;
    EXPECT_EQ(s.error().code, core::Errc::kUpstreamUnavailable);
    EXPECT_NE(s.error().message.find("boom"), std::string::npos);
  }
}

TEST(ResponsesToChatStream, ArgumentsForAnItemThatIsNoCallAreMalformed) {
  auto t = MakeStreamTranslator(Dialect::kOpenAiResponses, Dialect::kOpenAiChat, Context{});
  std::vector<core::StreamEvent> out;
  ASSERT_TRUE(t->Feed(Created()[0], out).has_value());
  auto s = t->Feed(Event("response.function_call_arguments.delta",
                         R"({"type":"response.function_call_arguments.delta","output_index":3,)"
                         R"("delta":"{}"})"),
                   out);
  ASSERT_FALSE(s.has_value());
  EXPECT_EQ(s.error().code, core::Errc::kUpstreamUnavailable);
}

TEST(ResponsesToChatStream, NothingAfterTheTerminalEventAndNothingBeforeCreated) {
  auto t = MakeStreamTranslator(Dialect::kOpenAiResponses, Dialect::kOpenAiChat, Context{});
  std::vector<core::StreamEvent> out;
  auto early = t->Feed(
      Event("response.output_text.delta", R"({"type":"response.output_text.delta","delta":"x"})"),
      out);
  EXPECT_FALSE(early.has_value());
  ASSERT_TRUE(t->Feed(Created()[0], out).has_value());
  auto done = Event("response.completed",
                    R"({"type":"response.completed","response":{"id":"resp_1","output":[]}})");
  ASSERT_TRUE(t->Feed(done, out).has_value());
  ASSERT_FALSE(out.empty());
  EXPECT_TRUE(out.back().terminal);
  const size_t n = out.size();
  ASSERT_TRUE(t->Feed(done, out).has_value());
  EXPECT_EQ(out.size(), n);
}

}  // namespace
}  // namespace sy::api::translate
