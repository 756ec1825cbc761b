#include "api/openai/prompt.h"

#include <string>

#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

#include "api/prompt_testing.h"

namespace sy::api::openai {
namespace {

namespace json = boost::json;
using core::OutputFormat;
using core::PromptRole;

const testing::PromptCase kCases[] = {
    {"plain user string", R"({"messages":[{"role":"user","content":"hi"}]})", "user:0:hi\n", 1, 1,
     0, false, false, false, OutputFormat::kText, 0, 0, 0},
    {"system and developer first, turns skip them",
     R"({"messages":[{"role":"user","content":"a"},{"role":"developer","content":"d"},
        {"role":"assistant","content":"b"},{"role":"system","content":"s"}],"max_tokens":9})",
     "system:-1:d\nsystem:-1:s\nuser:0:a\nassistant:1:b\n", 2, 1, 0, false, false, false,
     OutputFormat::kText, 0, 0, 9},
    {"parts: text, image, audio, file",
     R"({"messages":[{"role":"user","content":[{"type":"text","text":"look"},
        {"type":"image_url","image_url":{"url":"data:x"}},{"type":"input_audio","input_audio":{}},
        {"type":"file","file":{"file_id":"f"}},{"type":"text","text":"here"}]}]})",
     "user:0:look\nuser:0:here\n", 1, 1, 0, false, false, false, OutputFormat::kText, 1, 1, 0},
    {"tool round trip",
     R"({"messages":[{"role":"user","content":"weather?"},
        {"role":"assistant","content":null,"tool_calls":[{"id":"c","type":"function",
          "function":{"name":"w","arguments":"{}"}}]},
        {"role":"tool","tool_call_id":"c","content":"sunny"}],
       "tools":[{"type":"function","function":{"name":"w"}},{"type":"function","function":{"name":"x"}}]})",
     "user:0:weather?\ntool:2:sunny\n", 3, 1, 2, false, true, true, OutputFormat::kText, 0, 0, 0},
    {"tool_choice required",
     R"({"messages":[{"role":"user","content":"go"}],"tools":[{"type":"function","function":{"name":"w"}}],
        "tool_choice":"required"})",
     "user:0:go\n", 1, 1, 1, true, false, false, OutputFormat::kText, 0, 0, 0},
    {"named function forces structured output",
     R"({"messages":[{"role":"user","content":"go"}],"tools":[{"type":"function","function":{"name":"w"}}],
        "tool_choice":{"type":"function","function":{"name":"w"}}})",
     "user:0:go\n", 1, 1, 1, true, false, false, OutputFormat::kForcedTool, 0, 0, 0},
    {"tool_choice none offers nothing",
     R"({"messages":[{"role":"user","content":"go"}],"tools":[{"type":"function","function":{"name":"w"}}],
        "tool_choice":"none"})",
     "user:0:go\n", 1, 1, 0, false, false, false, OutputFormat::kText, 0, 0, 0},
    {"json_object",
     R"({"messages":[{"role":"user","content":"x"}],"response_format":{"type":"json_object"}})",
     "user:0:x\n", 1, 1, 0, false, false, false, OutputFormat::kJsonObject, 0, 0, 0},
    {"json_schema and max_completion_tokens wins",
     R"({"messages":[{"role":"user","content":"x"}],"response_format":{"type":"json_schema",
        "json_schema":{"name":"n","schema":{}}},"max_tokens":5,"max_completion_tokens":7})",
     "user:0:x\n", 1, 1, 0, false, false, false, OutputFormat::kJsonSchema, 0, 0, 7},
    {"legacy function role and function_call",
     R"({"messages":[{"role":"user","content":"q"},{"role":"assistant","content":null,
        "function_call":{"name":"f","arguments":"{}"}},{"role":"function","name":"f","content":"r"}],
        "functions":[{"name":"f"}]})",
     "user:0:q\ntool:2:r\n", 3, 1, 1, false, true, true, OutputFormat::kText, 0, 0, 0},
    {"unexpected types are skipped",
     R"({"messages":[5,{"role":7,"content":{"a":1}},{"role":"user","content":[3,null,{"type":7},
        {"type":"text","text":9}]},{"role":"assistant","tool_calls":"x"}],"tools":"x",
        "tool_choice":5,"response_format":"json","max_tokens":"9","metadata":[1]})",
     "", 3, 2, 0, false, false, false, OutputFormat::kText, 0, 0, 0},
    {"no messages at all", R"({"model":"m"})", "", 0, 0, 0, false, false, false,
     OutputFormat::kText, 0, 0, 0},
};

TEST(ReadChatPrompt, ReadsEachShape) { testing::ExpectPrompts(kCases, ReadChatPrompt, 1234); }

TEST(ReadChatPrompt, ViewsTheBodyWithoutCopying) {
  const json::value body = json::parse(R"({"messages":[{"role":"user","content":"hello"}]})");
  const core::Prompt p = ReadChatPrompt(body.as_object(), 0);
  ASSERT_EQ(p.texts.size(), 1u);
  const auto& content = body.at("messages").at(0).at("content").get_string();
  EXPECT_EQ(p.texts[0].text.data(), content.data());
}

TEST(ReadChatPrompt, NIsTheNumberOfAnswersAskedFor) {
  const auto choices = [](std::string_view text) {
    return ReadChatPrompt(json::parse(text).as_object(), 0).choices;
  };
  EXPECT_EQ(choices(R"({"messages":[],"n":3})"), 3);
  EXPECT_EQ(choices(R"({"messages":[]})"), 1);
  EXPECT_EQ(choices(R"({"messages":[],"n":0})"), 1);  // refused by decode; never below one
}

TEST(ReadChatPrompt, KeepsStringMetadata) {
  const json::value body = json::parse(
      R"({"messages":[{"role":"user","content":"x"}],"metadata":{"team":"search","n":3,"env":"prod"}})");
  const core::Prompt p = ReadChatPrompt(body.as_object(), 0);
  ASSERT_EQ(p.metadata.size(), 2u);
  EXPECT_EQ(p.metadata[0].first, "team");
  EXPECT_EQ(p.metadata[0].second, "search");
  EXPECT_EQ(p.metadata[1].first, "env");
  EXPECT_EQ(p.metadata[1].second, "prod");
}

}  // namespace
}  // namespace sy::api::openai
