#include <string>

#include <gtest/gtest.h>

#include "api/translate/translate.h"
#include "api/translate/translate_test_util.h"

namespace sy::api::translate {
namespace {

namespace json = boost::json;
using core::Dialect;
using test_util::J;
using test_util::MakeUsage;

const Context kCtx = [] {
  Context c;
  c.created_unix_s = 1700000000;
  return c;
}();

json::value ToOpenAi(std::string_view upstream, const core::Usage& usage = {}) {
  auto out = TranslateResponse(Dialect::kAnthropicMessages, Dialect::kOpenAiChat, J(upstream),
                               usage, kCtx);
  EXPECT_TRUE(out.has_value()) << (out ? "" : out.error().message);
  return out ? J(*out) : json::value();
}

json::value ToAnthropic(std::string_view upstream, const core::Usage& usage = {}) {
  auto out = TranslateResponse(Dialect::kOpenAiChat, Dialect::kAnthropicMessages, J(upstream),
                               usage, kCtx);
  EXPECT_TRUE(out.has_value()) << (out ? "" : out.error().message);
  return out ? J(*out) : json::value();
}

TEST(AnthropicToOpenAiResponse, TextAnswerWithUsageFromTheBilledUsage) {
  // The upstream's own usage block is ignored: the client sees the billed usage.
  EXPECT_EQ(ToOpenAi(R"({"id":"msg_1","type":"message","role":"assistant","model":"claude-x",
                         "content":[{"type":"text","text":"Hello"}],"stop_reason":"end_turn",
                         "stop_sequence":null,"usage":{"input_tokens":999,"output_tokens":999}})",
                     MakeUsage(1000, 600, 100, 50)),
            J(R"({"id":"msg_1","object":"chat.completion","created":1700000000,"model":"claude-x",
                  "choices":[{"index":0,"message":{"role":"assistant","content":"Hello",
                              "refusal":null},"logprobs":null,"finish_reason":"stop"}],
                  "usage":{"prompt_tokens":1000,"completion_tokens":50,"total_tokens":1050,
                           "prompt_tokens_details":{"cached_tokens":600},
                           "completion_tokens_details":{"reasoning_tokens":0}}})"));
}

TEST(AnthropicToOpenAiResponse, TextBlocksJoinedToolUseBecomesToolCallsThinkingDropped) {
  const auto out = ToOpenAi(R"({"id":"msg_2","type":"message","role":"assistant","model":"c",
      "content":[{"type":"thinking","thinking":"plan","signature":"s"},
                 {"type":"text","text":"Let me "},{"type":"text","text":"check."},
                 {"type":"tool_use","id":"toolu_1","name":"w","input":{"city":"Paris"}},
                 {"type":"tool_use","id":"toolu_2","name":"now","input":{}}],
      "stop_reason":"tool_use","stop_sequence":null,"usage":{}})");
  EXPECT_EQ(out.at_pointer("/choices/0/message"),
            J(R"({"role":"assistant","content":"Let me check.","refusal":null,"tool_calls":[
                {"id":"toolu_1","type":"function","function":{"name":"w","arguments":"{\"city\":\"Paris\"}"}},
                {"id":"toolu_2","type":"function","function":{"name":"now","arguments":"{}"}}]})"));
  EXPECT_EQ(out.at_pointer("/choices/0/finish_reason"), J(R"("tool_calls")"));
}

TEST(AnthropicToOpenAiResponse, NoTextMeansNullContent) {
  const auto out = ToOpenAi(R"({"id":"m","model":"c","content":[
      {"type":"tool_use","id":"t","name":"f","input":{}}],"stop_reason":"tool_use"})");
  EXPECT_TRUE(out.at_pointer("/choices/0/message/content").is_null());
}

TEST(AnthropicToOpenAiResponse, StopReasons) {
  auto finish = [](std::string_view stop_reason) {
    return ToOpenAi(R"({"id":"m","model":"c","content":[],"stop_reason":)" +
                    std::string(stop_reason) + "}")
        .at_pointer("/choices/0/finish_reason");
  };
  EXPECT_EQ(finish(R"("end_turn")"), "stop");
  EXPECT_EQ(finish(R"("stop_sequence")"), "stop");
  EXPECT_EQ(finish(R"("pause_turn")"), "stop");
  EXPECT_EQ(finish(R"("max_tokens")"), "length");
  EXPECT_EQ(finish(R"("model_context_window_exceeded")"), "length");
  EXPECT_EQ(finish(R"("tool_use")"), "tool_calls");
  EXPECT_EQ(finish(R"("refusal")"), "content_filter");
  EXPECT_EQ(finish("null"), "stop");
}

TEST(AnthropicToOpenAiResponse, MalformedUpstreamIsUnavailable) {
  for (const char* upstream : {R"([1])", R"({"id":"m"})", R"({"content":[]})",
                               R"({"id":"m","content":[{"type":"tool_use","name":"f"}]})",
                               R"({"id":"m","content":[{"type":"text"}]})"}) {
    auto out =
        TranslateResponse(Dialect::kAnthropicMessages, Dialect::kOpenAiChat, J(upstream), {}, kCtx);
    ASSERT_FALSE(out.has_value()) << upstream;
    EXPECT_EQ(out.error().code, core::Errc::kUpstreamUnavailable);
  }
}

// A call of the forced JSON-answer tool (structured_output.cpp) is the answer, not a tool call.
TEST(AnthropicToOpenAiResponse, JsonAnswerToolIsUnwrappedIntoContent) {
  auto answer = [](std::string_view blocks, std::string_view stop) {
    return ToOpenAi(R"({"id":"msg_1","type":"message","role":"assistant","model":"claude-x",
                        "content":)" +
                    std::string(blocks) + R"(,"stop_reason":")" + std::string(stop) + R"("})")
        .at_pointer("/choices/0");
  };
  const std::string ours =
      R"({"type":"tool_use","id":"toolu_a","name":"switchyard_json_answer","input":{"a":1}})";
  const std::string theirs = R"({"type":"tool_use","id":"toolu_w","name":"w","input":{}})";
  auto only = answer("[" + ours + "]", "tool_use");
  EXPECT_EQ(only.at("message").at("content"), R"({"a":1})");
  EXPECT_FALSE(only.at("message").as_object().contains("tool_calls"));
  EXPECT_EQ(only.at("finish_reason"), "stop");
  // Cut off by max_tokens: the reason stays.
  EXPECT_EQ(answer("[" + ours + "]", "max_tokens").at("finish_reason"), "length");
  // Beside a call of a client tool (tool_choice any over both): both, and finish tool_calls.
  auto both = answer("[" + ours + "," + theirs + "]", "tool_use");
  EXPECT_EQ(both.at("message").at("content"), R"({"a":1})");
  EXPECT_EQ(both.at("message").at("tool_calls").as_array().size(), 1u);
  EXPECT_EQ(both.at("message").at("tool_calls").at(0).at("function").at("name"), "w");
  EXPECT_EQ(both.at("finish_reason"), "tool_calls");
}

TEST(OpenAiToAnthropicResponse, TextAnswerWithCacheUsage) {
  EXPECT_EQ(ToAnthropic(R"({"id":"chatcmpl-1","object":"chat.completion","created":1,
                            "model":"gpt-x","choices":[{"index":0,"message":{"role":"assistant",
                            "content":"Hello","refusal":null},"logprobs":null,
                            "finish_reason":"stop"}],"usage":{"prompt_tokens":1}})",
                        MakeUsage(1000, 600, 100, 50)),
            J(R"({"id":"chatcmpl-1","type":"message","role":"assistant","model":"gpt-x",
                  "content":[{"type":"text","text":"Hello"}],"stop_reason":"end_turn",
                  "stop_sequence":null,"usage":{"input_tokens":300,
                  "cache_creation_input_tokens":100,"cache_read_input_tokens":600,
                  "output_tokens":50}})"));
}

TEST(OpenAiToAnthropicResponse, ToolCallsBecomeToolUseBlocksAfterTheText) {
  const auto out = ToAnthropic(R"({"id":"c","model":"g","choices":[{"index":0,"message":{
      "role":"assistant","content":"Checking.","tool_calls":[
        {"id":"call_1","type":"function","function":{"name":"w","arguments":"{\"city\":\"Paris\"}"}},
        {"id":"call_2","type":"function","function":{"name":"now","arguments":""}}]},
      "finish_reason":"tool_calls"}]})");
  EXPECT_EQ(out.at_pointer("/content"), J(R"([{"type":"text","text":"Checking."},
                  {"type":"tool_use","id":"call_1","name":"w","input":{"city":"Paris"}},
                  {"type":"tool_use","id":"call_2","name":"now","input":{}}])"));
  EXPECT_EQ(out.at_pointer("/stop_reason"), "tool_use");
}

TEST(OpenAiToAnthropicResponse, EmptyOrNullContentMakesNoTextBlock) {
  for (const char* content : {"null", R"("")"}) {
    const auto out = ToAnthropic(R"({"id":"c","model":"g","choices":[{"message":{"content":)" +
                                 std::string(content) + R"(},"finish_reason":"stop"}]})");
    EXPECT_EQ(out.at_pointer("/content"), json::array()) << content;
  }
}

TEST(OpenAiToAnthropicResponse, RefusalBecomesTextAndStopReasonRefusal) {
  const auto out = ToAnthropic(R"({"id":"c","model":"g","choices":[{"message":{"content":null,
      "refusal":"I can't help with that."},"finish_reason":"stop"}]})");
  EXPECT_EQ(out.at_pointer("/content"), J(R"([{"type":"text","text":"I can't help with that."}])"));
  EXPECT_EQ(out.at_pointer("/stop_reason"), "refusal");
}

TEST(OpenAiToAnthropicResponse, FinishReasons) {
  auto stop = [](std::string_view finish_reason) {
    return ToAnthropic(R"({"id":"c","model":"g","choices":[{"message":{"content":"x"},
                           "finish_reason":)" +
                       std::string(finish_reason) + "}]}")
        .at_pointer("/stop_reason");
  };
  EXPECT_EQ(stop(R"("stop")"), "end_turn");
  EXPECT_EQ(stop(R"("length")"), "max_tokens");
  EXPECT_EQ(stop(R"("tool_calls")"), "tool_use");
  EXPECT_EQ(stop(R"("function_call")"), "tool_use");
  EXPECT_EQ(stop(R"("content_filter")"), "refusal");
}

TEST(OpenAiToAnthropicResponse, MalformedUpstreamIsUnavailable) {
  for (const char* upstream :
       {R"("x")", R"({"id":"c","choices":[]})", R"({"choices":[{"message":{}}]})",
        R"({"id":"c","choices":[{"message":{"tool_calls":[{"id":"a","function":{"name":"f",
            "arguments":"{not json"}}]}}]})",
        R"({"id":"c","choices":[{"message":{"tool_calls":[{"id":"a","function":{"name":"f",
            "arguments":"42"}}]}}]})",
        R"({"id":"c","choices":[{"message":{"tool_calls":[{"function":{"name":"f"}}]}}]})"}) {
    auto out =
        TranslateResponse(Dialect::kOpenAiChat, Dialect::kAnthropicMessages, J(upstream), {}, kCtx);
    ASSERT_FALSE(out.has_value()) << upstream;
    EXPECT_EQ(out.error().code, core::Errc::kUpstreamUnavailable);
  }
}

// A Chat completion calling `f` with arguments {"x": <`levels` nested arrays>}: JSON text in a
// string, levels + 1 deep, as a model fills a tool schema that deep.
std::string CompletionCallingWithDeepArguments(int levels) {
  const auto n = static_cast<size_t>(levels);
  return R"({"id":"c","model":"g","choices":[{"message":{"content":null,"tool_calls":[)"
         R"({"id":"a","type":"function","function":{"name":"f","arguments":"{\"x\":)" +
         std::string(n, '[') + "1" + std::string(n, ']') +
         R"(}"}}]},"finish_reason":"tool_calls"}]})";
}

TEST(OpenAiToAnthropicResponse, ArgumentsAsDeepAsTheRequestMayNestBecomeTheInput) {
  // Regression: arguments were parsed at Boost.JSON's default depth (32), so a call whose
  // arguments follow a deep tool schema of the client's (41 levels here) failed translation.
  Context ctx = kCtx;
  ctx.max_json_depth = core::kDefaultMaxJsonDepth;
  auto out = TranslateResponse(Dialect::kOpenAiChat, Dialect::kAnthropicMessages,
                               J(CompletionCallingWithDeepArguments(40)), {}, ctx);
  ASSERT_TRUE(out.has_value()) << out.error().message;
  EXPECT_NE(out->find(R"("type":"tool_use","id":"a","name":"f","input":{"x":[[[[)"),
            std::string::npos)
      << *out;
  ctx.max_json_depth = 24;  // 24 + 16 = 40 levels allowed
  out = TranslateResponse(Dialect::kOpenAiChat, Dialect::kAnthropicMessages,
                          J(CompletionCallingWithDeepArguments(40)), {}, ctx);
  ASSERT_FALSE(out.has_value());
  EXPECT_EQ(out.error().code, core::Errc::kUpstreamUnavailable);
}

TEST(TranslateResponse, SameDialectPassesTheBodyThrough) {
  auto out =
      TranslateResponse(Dialect::kOpenAiChat, Dialect::kOpenAiChat, J(R"({"a":1})"), {}, kCtx);
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(*out, R"({"a":1})");
}

}  // namespace
}  // namespace sy::api::translate
