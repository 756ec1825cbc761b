#include "api/anthropic/prompt.h"

#include <string>

#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

#include "api/prompt_testing.h"

namespace sy::api::anthropic {
namespace {

namespace json = boost::json;
using core::OutputFormat;

const testing::PromptCase kCases[] = {
    {"system string and user string",
     R"({"system":"be brief","messages":[{"role":"user","content":"hi"}],"max_tokens":100})",
     "system:-1:be brief\nuser:0:hi\n", 1, 1, 0, false, false, false, OutputFormat::kText, 0, 0,
     100},
    {"system blocks and a system-role message come first",
     R"({"system":[{"type":"text","text":"a"},{"type":"text","text":"b"}],
        "messages":[{"role":"user","content":"u"},{"role":"system","content":"c"},
        {"role":"assistant","content":[{"type":"text","text":"r"}]}],"max_tokens":1})",
     "system:-1:a\nsystem:-1:b\nsystem:-1:c\nuser:0:u\nassistant:2:r\n", 2, 1, 0, false, false,
     false, OutputFormat::kText, 0, 0, 1},
    {"image and documents",
     R"({"messages":[{"role":"user","content":[{"type":"image","source":{"type":"base64"}},
        {"type":"document","source":{"type":"text","media_type":"text/plain","data":"doc text"}},
        {"type":"document","source":{"type":"base64","media_type":"application/pdf","data":"JVB"}},
        {"type":"text","text":"summarise"}]}],"max_tokens":1})",
     "user:0:doc text\nuser:0:summarise\n", 1, 1, 0, false, false, false, OutputFormat::kText, 1, 1,
     1},
    {"tool round trip: the result turn is not a user turn",
     R"({"messages":[{"role":"user","content":"weather?"},
        {"role":"assistant","content":[{"type":"text","text":"checking"},
          {"type":"tool_use","id":"t","name":"w","input":{}}]},
        {"role":"user","content":[{"type":"tool_result","tool_use_id":"t","content":"sunny"},
          {"type":"tool_result","tool_use_id":"u","content":[{"type":"text","text":"warm"},
            {"type":"image","source":{}}]}]}],
       "tools":[{"name":"w","input_schema":{}},{"type":"web_search_20250305","name":"web_search"}],
       "max_tokens":1})",
     "user:0:weather?\nassistant:1:checking\ntool:2:sunny\ntool:2:warm\n", 3, 1, 2, false, true,
     true, OutputFormat::kText, 1, 0, 1},
    {"tool_choice any",
     R"({"messages":[{"role":"user","content":"go"}],"tools":[{"name":"w","input_schema":{}}],
        "tool_choice":{"type":"any"},"max_tokens":1})",
     "user:0:go\n", 1, 1, 1, true, false, false, OutputFormat::kText, 0, 0, 1},
    {"tool_choice tool forces structured output",
     R"({"messages":[{"role":"user","content":"go"}],"tools":[{"name":"w","input_schema":{}}],
        "tool_choice":{"type":"tool","name":"w"},"max_tokens":1})",
     "user:0:go\n", 1, 1, 1, true, false, false, OutputFormat::kForcedTool, 0, 0, 1},
    {"output_config.format asks for a JSON schema",
     R"({"messages":[{"role":"user","content":"go"}],"max_tokens":1,
        "output_config":{"format":{"type":"json_schema","schema":{"type":"object"}}}})",
     "user:0:go\n", 1, 1, 0, false, false, false, OutputFormat::kJsonSchema, 0, 0, 1},
    {"the beta's output_format too",
     R"({"messages":[{"role":"user","content":"go"}],"max_tokens":1,
        "output_format":{"type":"json_schema","schema":{"type":"object"}}})",
     "user:0:go\n", 1, 1, 0, false, false, false, OutputFormat::kJsonSchema, 0, 0, 1},
    {"tool_choice none",
     R"({"messages":[{"role":"user","content":"go"}],"tools":[{"name":"w","input_schema":{}}],
        "tool_choice":{"type":"none"},"max_tokens":1})",
     "user:0:go\n", 1, 1, 0, false, false, false, OutputFormat::kText, 0, 0, 1},
    {"unexpected types are skipped",
     R"({"system":5,"messages":[1,{"role":"user","content":7},{"role":"user","content":[1,
        {"type":"text","text":3},{"type":"tool_result","content":{"x":1}}]}],"tools":{},
        "tool_choice":"any","max_tokens":-1,"metadata":{"user_id":4}})",
     "", 2, 1, 0, false, false, true, OutputFormat::kText, 0, 0, 0},
};

TEST(ReadMessagesPrompt, ReadsEachShape) { testing::ExpectPrompts(kCases, ReadMessagesPrompt, 99); }

TEST(ReadMessagesPrompt, KeepsTheUserIdAsMetadata) {
  const json::value body = json::parse(
      R"({"messages":[{"role":"user","content":"x"}],"max_tokens":1,"metadata":{"user_id":"u-7"}})");
  const core::Prompt p = ReadMessagesPrompt(body.as_object(), 0);
  ASSERT_EQ(p.metadata.size(), 1u);
  EXPECT_EQ(p.metadata[0].first, "user_id");
  EXPECT_EQ(p.metadata[0].second, "u-7");
}

}  // namespace
}  // namespace sy::api::anthropic
