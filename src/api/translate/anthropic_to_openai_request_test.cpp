#include <string>

#include <gtest/gtest.h>

#include "api/translate/translate.h"
#include "api/translate/translate_test_util.h"

namespace sy::api::translate {
namespace {

namespace json = boost::json;
using test_util::J;
using test_util::O;

json::value ToOpenAi(std::string_view body) {
  auto out = AnthropicToOpenAiRequest(O(body));
  EXPECT_TRUE(out.has_value()) << (out ? "" : out.error().param + ": " + out.error().message);
  return out ? json::value(*out) : json::value();
}

void ExpectRefused(std::string_view body, std::string_view param, std::string_view says) {
  auto out = AnthropicToOpenAiRequest(O(body));
  ASSERT_FALSE(out.has_value()) << json::serialize(*out);
  EXPECT_EQ(out.error().code, core::Errc::kInvalidRequest);
  EXPECT_EQ(out.error().param, param);
  EXPECT_NE(out.error().message.find(says), std::string::npos) << out.error().message;
  EXPECT_NE(out.error().message.find("OpenAI Chat Completions API"), std::string::npos)
      << out.error().message;
}

TEST(AnthropicToOpenAiRequest, MinimalDropsModelKeepsStreamAndMapsMaxTokens) {
  EXPECT_EQ(ToOpenAi(R"({"model":"claude","max_tokens":512,"stream":true,
                         "messages":[{"role":"user","content":"Hi"}]})"),
            J(R"({"messages":[{"role":"user","content":"Hi"}],"max_completion_tokens":512,
                  "stream":true})"));
}

TEST(AnthropicToOpenAiRequest, SystemTurnsStayInPlace) {
  EXPECT_EQ(ToOpenAi(R"({"model":"c","max_tokens":1,"messages":[
                           {"role":"user","content":"Hi"},
                           {"role":"system","content":[{"type":"text","text":"Now in French."}]},
                           {"role":"user","content":"Again"}]})"),
            J(R"({"messages":[{"role":"user","content":"Hi"},
                              {"role":"system","content":[{"type":"text","text":"Now in French."}]},
                              {"role":"user","content":"Again"}],"max_completion_tokens":1})"));
  ExpectRefused(R"({"model":"c","max_tokens":1,"messages":[
                      {"role":"system","content":[{"type":"image","source":{}}]},
                      {"role":"user","content":"Hi"}]})",
                "messages.0.content.0", "a non-text system block");
}

TEST(AnthropicToOpenAiRequest, SystemBecomesTheFirstMessage) {
  EXPECT_EQ(ToOpenAi(R"({"model":"c","max_tokens":1,"system":"Be brief.",
                         "messages":[{"role":"user","content":"Hi"}]})"),
            J(R"({"messages":[{"role":"system","content":"Be brief."},
                              {"role":"user","content":"Hi"}],"max_completion_tokens":1})"));
  EXPECT_EQ(ToOpenAi(R"({"model":"c","max_tokens":1,"system":[
                           {"type":"text","text":"A","cache_control":{"type":"ephemeral"}},
                           {"type":"text","text":"B"}],
                         "messages":[{"role":"user","content":"Hi"}]})"),
            J(R"({"messages":[{"role":"system","content":[{"type":"text","text":"A"},
                                                          {"type":"text","text":"B"}]},
                              {"role":"user","content":"Hi"}],"max_completion_tokens":1})"));
}

TEST(AnthropicToOpenAiRequest, UserTextAndImagesBecomeParts) {
  EXPECT_EQ(ToOpenAi(R"({"model":"c","max_tokens":1,"messages":[{"role":"user","content":[
          {"type":"text","text":"Compare","cache_control":{"type":"ephemeral"}},
          {"type":"image","source":{"type":"base64","media_type":"image/png","data":"iVBOR"}},
          {"type":"image","source":{"type":"url","url":"https://example.com/a.jpg"}}]}]})"),
            J(R"({"messages":[{"role":"user","content":[
          {"type":"text","text":"Compare"},
          {"type":"image_url","image_url":{"url":"data:image/png;base64,iVBOR"}},
          {"type":"image_url","image_url":{"url":"https://example.com/a.jpg"}}]}],
          "max_completion_tokens":1})"));
}

TEST(AnthropicToOpenAiRequest, ToolResultsBecomeToolMessagesBeforeTheRestOfTheTurn) {
  EXPECT_EQ(ToOpenAi(R"({"model":"c","max_tokens":1,"messages":[
          {"role":"user","content":"Weather?"},
          {"role":"assistant","content":[
            {"type":"thinking","thinking":"hmm","signature":"sig"},
            {"type":"text","text":"Checking "},{"type":"text","text":"both."},
            {"type":"tool_use","id":"toolu_1","name":"w","input":{"city":"Paris"}},
            {"type":"tool_use","id":"toolu_2","name":"w","input":{"city":"Rome"}}]},
          {"role":"user","content":[
            {"type":"text","text":"Here:"},
            {"type":"tool_result","tool_use_id":"toolu_1","content":"18C"},
            {"type":"tool_result","tool_use_id":"toolu_2","content":[{"type":"text","text":"21C"}]}]}]})"),
            J(R"({"messages":[
          {"role":"user","content":"Weather?"},
          {"role":"assistant","content":"Checking both.","tool_calls":[
            {"id":"toolu_1","type":"function","function":{"name":"w","arguments":"{\"city\":\"Paris\"}"}},
            {"id":"toolu_2","type":"function","function":{"name":"w","arguments":"{\"city\":\"Rome\"}"}}]},
          {"role":"tool","tool_call_id":"toolu_1","content":"18C"},
          {"role":"tool","tool_call_id":"toolu_2","content":[{"type":"text","text":"21C"}]},
          {"role":"user","content":[{"type":"text","text":"Here:"}]}],
          "max_completion_tokens":1})"));
}

TEST(AnthropicToOpenAiRequest, OnlyToolResultsMakeNoUserMessageAndToolOnlyAssistantHasNullContent) {
  EXPECT_EQ(ToOpenAi(R"({"model":"c","max_tokens":1,"messages":[
              {"role":"assistant","content":[{"type":"tool_use","id":"t","name":"f","input":{}}]},
              {"role":"user","content":[{"type":"tool_result","tool_use_id":"t"}]}]})"),
            J(R"({"messages":[
              {"role":"assistant","content":null,"tool_calls":[
                {"id":"t","type":"function","function":{"name":"f","arguments":"{}"}}]},
              {"role":"tool","tool_call_id":"t","content":""}],"max_completion_tokens":1})"));
}

TEST(AnthropicToOpenAiRequest, ToolErrorsArePrefixed) {
  EXPECT_EQ(ToOpenAi(R"({"model":"c","max_tokens":1,"messages":[{"role":"user","content":[
              {"type":"tool_result","tool_use_id":"a","is_error":true,"content":"timeout"},
              {"type":"tool_result","tool_use_id":"b","is_error":true,
               "content":[{"type":"text","text":"bad city"},{"type":"text","text":"!"}]}]}]})"),
            J(R"({"messages":[
              {"role":"tool","tool_call_id":"a","content":"Error: timeout"},
              {"role":"tool","tool_call_id":"b","content":[{"type":"text","text":"Error: bad city"},
                                                          {"type":"text","text":"!"}]}],
              "max_completion_tokens":1})"));
}

TEST(AnthropicToOpenAiRequest, RefusesBlocksOpenAiCannotTake) {
  ExpectRefused(R"({"model":"c","max_tokens":1,"messages":[{"role":"user","content":"a"},
                  {"role":"assistant","content":"b"},{"role":"user","content":[
                  {"type":"tool_result","tool_use_id":"t","content":[{"type":"text","text":"x"},
                    {"type":"image","source":{"type":"base64","media_type":"image/png","data":"A"}}]}]}]})",
                "messages.2.content.0.content.1", "image block inside a tool_result");
  ExpectRefused(R"({"model":"c","max_tokens":1,"messages":[{"role":"user","content":[
                  {"type":"text","text":"Summarise"},
                  {"type":"document","source":{"type":"text","media_type":"text/plain","data":"x"}}]}]})",
                "messages.0.content.1", "document");
  ExpectRefused(R"({"model":"c","max_tokens":1,"messages":[{"role":"user","content":"a"},
                  {"role":"assistant","content":[{"type":"server_tool_use","id":"s","name":"web_search",
                   "input":{}}]}]})",
                "messages.1.content.0", "server_tool_use");
  ExpectRefused(R"({"model":"c","max_tokens":1,"messages":[{"role":"user","content":[
                  {"type":"image","source":{"type":"file","file_id":"f"}}]}]})",
                "messages.0.content.0.source", "image source");
}

TEST(AnthropicToOpenAiRequest, SamplingToolsAndChoice) {
  EXPECT_EQ(ToOpenAi(R"({"model":"c","max_tokens":10,"messages":[{"role":"user","content":"x"}],
          "stop_sequences":["END"],"temperature":0.2,"top_p":0.8,"metadata":{"user_id":"u-1"},
          "thinking":{"type":"enabled","budget_tokens":1024},"service_tier":"auto",
          "tools":[{"name":"w","description":"Weather","cache_control":{"type":"ephemeral"},
                    "input_schema":{"type":"object","properties":{"city":{"type":"string"}}}},
                   {"type":"custom","name":"now","input_schema":{"type":"object"}}],
          "tool_choice":{"type":"any","disable_parallel_tool_use":true}})"),
            J(R"({"messages":[{"role":"user","content":"x"}],"max_completion_tokens":10,
          "stop":["END"],"temperature":0.2,"top_p":0.8,"user":"u-1",
          "tools":[{"type":"function","function":{"name":"w","description":"Weather",
                    "parameters":{"type":"object","properties":{"city":{"type":"string"}}}}},
                   {"type":"function","function":{"name":"now","parameters":{"type":"object"}}}],
          "tool_choice":"required","parallel_tool_calls":false})"));
}

TEST(AnthropicToOpenAiRequest, ToolChoiceValues) {
  auto choice = [](std::string_view tool_choice) {
    auto out = ToOpenAi(std::string(R"({"model":"c","max_tokens":1,
        "messages":[{"role":"user","content":"x"}],
        "tools":[{"name":"w","input_schema":{"type":"object"}}],"tool_choice":)") +
                        std::string(tool_choice) + "}");
    const auto* c = out.is_object() ? out.get_object().if_contains("tool_choice") : nullptr;
    return c ? *c : json::value();
  };
  EXPECT_EQ(choice(R"({"type":"auto"})"), J(R"("auto")"));
  EXPECT_EQ(choice(R"({"type":"any"})"), J(R"("required")"));
  EXPECT_EQ(choice(R"({"type":"none"})"), J(R"("none")"));
  EXPECT_EQ(choice(R"({"type":"tool","name":"w"})"),
            J(R"({"type":"function","function":{"name":"w"}})"));
}

TEST(AnthropicToOpenAiRequest, ToolChoiceWithoutToolsIsDropped) {
  EXPECT_EQ(ToOpenAi(R"({"model":"c","max_tokens":1,"messages":[{"role":"user","content":"x"}],
                         "tools":[],"tool_choice":{"type":"auto","disable_parallel_tool_use":true}})"),
            J(R"({"messages":[{"role":"user","content":"x"}],"max_completion_tokens":1})"));
}

TEST(AnthropicToOpenAiRequest, RefusesAPrefill) {
  ExpectRefused(R"({"model":"c","max_tokens":1,"messages":[{"role":"user","content":"JSON?"},
                  {"role":"assistant","content":"{"}]})",
                "messages.1", "prefill");
}

TEST(AnthropicToOpenAiRequest, OutputFormatBecomesResponseFormatJsonSchema) {
  const std::string head =
      R"({"model":"c","max_tokens":1,"messages":[{"role":"user","content":"x"}],)";
  const auto expected = J(R"({"type":"json_schema","json_schema":{"name":"output",
                              "schema":{"type":"object"},"strict":true}})");
  auto format_of = [&](std::string_view rest) {
    auto out = AnthropicToOpenAiRequest(O(head + std::string(rest) + "}"));
    EXPECT_TRUE(out.has_value()) << (out ? "" : out.error().param + ": " + out.error().message);
    const auto* f = out ? out->if_contains("response_format") : nullptr;
    return f ? *f : json::value();
  };
  EXPECT_EQ(
      format_of(R"("output_config":{"format":{"type":"json_schema","schema":{"type":"object"}}})"),
      expected);
  EXPECT_EQ(format_of(R"("output_format":{"type":"json_schema","schema":{"type":"object"}})"),
            expected);
  // effort alone changes how much the model reasons, not the answer's format: dropped.
  EXPECT_EQ(format_of(R"("output_config":{"effort":"high"})"), json::value());
  EXPECT_EQ(format_of(R"("output_config":{"effort":"low","format":null})"), json::value());
}

TEST(AnthropicToOpenAiRequest, RefusesOutputFormatsOpenAiCannotTake) {
  const std::string head =
      R"({"model":"c","max_tokens":1,"messages":[{"role":"user","content":"x"}],)";
  ExpectRefused(head + R"("output_config":{"format":{"type":"grammar","grammar":"x"}}})",
                "output_config.format.type", "json_schema");
  ExpectRefused(head + R"("output_format":{"type":"text"}})", "output_format.type", "json_schema");
  ExpectRefused(head + R"("output_config":{"verbosity":"low"}})", "output_config.verbosity",
                "'output_config.verbosity'");
  auto no_schema = AnthropicToOpenAiRequest(O(head + R"("output_format":{"type":"json_schema"}})"));
  ASSERT_FALSE(no_schema.has_value());
  EXPECT_EQ(no_schema.error().param, "output_format.schema");
  auto both = AnthropicToOpenAiRequest(
      O(head + R"("output_config":{"format":{"type":"json_schema","schema":{"type":"object"}}},)"
               R"("output_format":{"type":"json_schema","schema":{"type":"object"}}})"));
  ASSERT_FALSE(both.has_value());
  EXPECT_NE(both.error().message.find("not both"), std::string::npos) << both.error().message;
}

TEST(AnthropicToOpenAiRequest, RefusesWhatOpenAiCannotExpress) {
  ExpectRefused(
      R"({"model":"c","max_tokens":1,"top_k":5,"messages":[{"role":"user","content":"x"}]})",
      "top_k", "top_k");
  ExpectRefused(R"({"model":"c","max_tokens":1,"messages":[{"role":"user","content":"x"}],
                  "tools":[{"name":"w","input_schema":{"type":"object"}},
                           {"type":"web_search_20250305","name":"web_search","max_uses":3}]})",
                "tools.1", "web_search_20250305");
  ExpectRefused(R"({"model":"c","max_tokens":1,"messages":[{"role":"user","content":"x"}],
                  "stop_sequences":["a","b","c","d","e"]})",
                "stop_sequences", "more than 4");
  ExpectRefused(R"({"model":"c","max_tokens":1,"messages":[{"role":"user","content":"x"}],
                  "mcp_servers":[]})",
                "mcp_servers", "'mcp_servers'");
}

}  // namespace
}  // namespace sy::api::translate
