#include "api/responses/prompt.h"

#include <string>

#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

#include "api/prompt_testing.h"

namespace sy::api::responses {
namespace {

namespace json = boost::json;
using core::OutputFormat;

const testing::PromptCase kCases[] = {
    {"input string", R"({"input":"hi"})", "user:0:hi\n", 1, 1, 0, false, false, false,
     OutputFormat::kText, 0, 0, 0},
    {"instructions and system items first, turns skip them",
     R"({"instructions":"be kind","input":[{"role":"user","content":"a"},
        {"role":"developer","content":"d"},{"type":"message","role":"assistant",
        "content":[{"type":"output_text","text":"b"}]},{"role":"system","content":"s"}],
        "max_output_tokens":9})",
     "system:-1:be kind\nsystem:-1:d\nsystem:-1:s\nuser:0:a\nassistant:1:b\n", 2, 1, 0, false,
     false, false, OutputFormat::kText, 0, 0, 9},
    {"parts: text, image, file, refusal",
     R"({"input":[{"role":"user","content":[{"type":"input_text","text":"look"},
        {"type":"input_image","image_url":"data:x"},{"type":"input_file","file_id":"f"},
        {"type":"input_text","text":"here"}]},{"role":"assistant","content":[
        {"type":"refusal","refusal":"no"}]}]})",
     "user:0:look\nuser:0:here\nassistant:1:no\n", 2, 1, 0, false, false, false,
     OutputFormat::kText, 1, 1, 0},
    {"function call round trip: consecutive calls are one message",
     R"({"input":[{"role":"user","content":"weather?"},
        {"type":"function_call","call_id":"a","name":"w","arguments":"{}"},
        {"type":"function_call","call_id":"b","name":"w","arguments":"{}"},
        {"type":"function_call_output","call_id":"a","output":"sunny"},
        {"type":"function_call_output","call_id":"b","output":[{"type":"input_text","text":"rain"}]},
        {"type":"reasoning","summary":[]}],
       "tools":[{"type":"function","name":"w"},{"type":"function","name":"x"}]})",
     "user:0:weather?\ntool:2:sunny\ntool:3:rain\n", 4, 1, 2, false, true, true,
     OutputFormat::kText, 0, 0, 0},
    {"tool_choice required",
     R"({"input":"go","tools":[{"type":"function","name":"w"}],"tool_choice":"required"})",
     "user:0:go\n", 1, 1, 1, true, false, false, OutputFormat::kText, 0, 0, 0},
    {"named function forces structured output",
     R"({"input":"go","tools":[{"type":"function","name":"w"}],
        "tool_choice":{"type":"function","name":"w"}})",
     "user:0:go\n", 1, 1, 1, true, false, false, OutputFormat::kForcedTool, 0, 0, 0},
    {"allowed_tools in auto mode forces nothing",
     R"({"input":"go","tools":[{"type":"function","name":"w"}],
        "tool_choice":{"type":"allowed_tools","mode":"auto","tools":[]}})",
     "user:0:go\n", 1, 1, 1, false, false, false, OutputFormat::kText, 0, 0, 0},
    {"tool_choice none offers nothing",
     R"({"input":"go","tools":[{"type":"function","name":"w"}],"tool_choice":"none"})",
     "user:0:go\n", 1, 1, 0, false, false, false, OutputFormat::kText, 0, 0, 0},
    {"json_object", R"({"input":"x","text":{"format":{"type":"json_object"}}})", "user:0:x\n", 1, 1,
     0, false, false, false, OutputFormat::kJsonObject, 0, 0, 0},
    {"json_schema",
     R"({"input":"x","text":{"format":{"type":"json_schema","name":"n","schema":{}}}})",
     "user:0:x\n", 1, 1, 0, false, false, false, OutputFormat::kJsonSchema, 0, 0, 0},
    {"unexpected types are skipped",
     R"({"input":[5,{"role":7,"content":{"a":1}},{"role":"user","content":[3,null,{"type":7},
        {"type":"input_text","text":9}]}],"tools":"x","tool_choice":5,"text":"json",
        "max_output_tokens":"9","metadata":[1],"instructions":4})",
     "", 2, 2, 0, false, false, false, OutputFormat::kText, 0, 0, 0},
    {"no input at all", R"({"model":"m"})", "", 0, 0, 0, false, false, false, OutputFormat::kText,
     0, 0, 0},
};

TEST(ReadResponsesPrompt, ReadsEachShape) {
  testing::ExpectPrompts(kCases, ReadResponsesPrompt, 1234);
}

TEST(ReadResponsesPrompt, ViewsTheBodyWithoutCopying) {
  const json::value body = json::parse(R"({"input":"hello","instructions":"sys"})");
  const core::Prompt p = ReadResponsesPrompt(body.as_object(), 0);
  ASSERT_EQ(p.texts.size(), 2u);
  EXPECT_EQ(p.texts[0].text.data(), body.at("instructions").get_string().data());
  EXPECT_EQ(p.texts[1].text.data(), body.at("input").get_string().data());
}

TEST(ReadResponsesPrompt, KeepsStringMetadata) {
  const json::value body =
      json::parse(R"({"input":"x","metadata":{"team":"search","n":3,"env":"prod"}})");
  const core::Prompt p = ReadResponsesPrompt(body.as_object(), 0);
  ASSERT_EQ(p.metadata.size(), 2u);
  EXPECT_EQ(p.metadata[0].first, "team");
  EXPECT_EQ(p.metadata[1].second, "prod");
}

}  // namespace
}  // namespace sy::api::responses
