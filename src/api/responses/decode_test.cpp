#include "api/responses/decode.h"

#include <string>

#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

namespace sy::api::responses {
namespace {

namespace json = boost::json;

core::Status Decode(std::string_view body, core::Request& out) {
  return DecodeResponsesRequest(body, 64, out);
}

core::Error DecodeError(std::string_view body) {
  core::Request out;
  auto status = Decode(body, out);
  EXPECT_FALSE(status.has_value()) << body;
  return status.has_value() ? core::Error{} : status.error();
}

TEST(DecodeResponsesRequest, AcceptsAMinimalRequestAndKeepsUnknownFields) {
  core::Request out;
  ASSERT_TRUE(Decode(R"({"model":"gpt-4.1","input":"hi","future_knob":{"x":1}})", out));
  EXPECT_EQ(out.model, "gpt-4.1");
  EXPECT_EQ(out.dialect, core::Dialect::kOpenAiResponses);
  EXPECT_FALSE(out.stream);
  EXPECT_FALSE(out.include_usage);
  EXPECT_TRUE(out.body.contains("future_knob"));  // passed through untouched
}

TEST(DecodeResponsesRequest, ReadsStreamButNeverIncludeUsage) {
  core::Request out;
  ASSERT_TRUE(Decode(R"({"model":"m","input":"hi","stream":true})", out));
  EXPECT_TRUE(out.stream);
  EXPECT_FALSE(out.include_usage);  // response.completed always carries usage
}

TEST(DecodeResponsesRequest, AcceptsEveryKnownItemAndPart) {
  core::Request out;
  EXPECT_TRUE(Decode(R"({"model":"m","instructions":null,"input":[
      {"role":"developer","content":"be brief"},
      {"type":"message","role":"user","content":[{"type":"input_text","text":"look"},
        {"type":"input_image","image_url":"https://x/y.png","detail":"low"},
        {"type":"input_image","file_id":"file-1"},{"type":"input_file","file_id":"file-2"}]},
      {"type":"reasoning","id":"rs_1","summary":[]},
      {"type":"message","role":"assistant","content":[{"type":"output_text","text":"ok"},
        {"type":"refusal","refusal":"no"}]},
      {"type":"function_call","call_id":"c1","name":"f","arguments":"{}"},
      {"type":"function_call_output","call_id":"c1","output":"42"},
      {"type":"function_call_output","call_id":"c1","output":[{"type":"input_text","text":"x"}]}],
    "tools":[{"type":"function","name":"f","parameters":{"type":"object"},"strict":true,
              "description":"d"},{"type":"web_search_preview"}],
    "tool_choice":{"type":"function","name":"f"},
    "text":{"format":{"type":"json_schema","name":"n","schema":{"type":"object"},"strict":true}},
    "max_output_tokens":100,"temperature":2,"top_p":0,"metadata":{"a":"b"},
    "parallel_tool_calls":false,"store":false,"previous_response_id":"resp_1",
    "reasoning":{"effort":"xhigh"}})",
                     out));
}

struct BadCase {
  const char* body;
  const char* param;
  const char* message_part;
};

const BadCase kBad[] = {
    {R"({"input":"x"})", "model", "Missing required parameter: 'model'"},
    {R"({"model":"","input":"x"})", "model", "empty"},
    {R"({"model":5,"input":"x"})", "model", "expected a string"},
    {R"({"model":"m","input":5})", "input",
     "Invalid type for 'input': expected a string or an array of input items"},
    {R"({"model":"m","input":[5]})", "input[0]", "expected an object"},
    {R"({"model":"m","input":[{"content":"x"}]})", "input[0].type", "Missing"},
    {R"({"model":"m","input":["a",{"role":"user","content":"x"},{"role":"user","content":"x"},
        {"type":"web_search_call","id":"ws_1"}]})",
     "input[0]", "expected an object"},
    {R"({"model":"m","input":[{"role":"user","content":"x"},{"role":"user","content":"x"},
        {"role":"user","content":"x"},{"type":"web_search_call","id":"ws_1"}]})",
     "input[3].type", "web_search_call"},
    {R"({"model":"m","input":[{"role":"robot","content":"x"}]})", "input[0].role", "robot"},
    {R"({"model":"m","input":[{"role":"user"}]})", "input[0].content", "Missing"},
    {R"({"model":"m","input":[{"role":"user","content":7}]})", "input[0].content",
     "a string or an array"},
    {R"({"model":"m","input":[{"role":"user","content":[{"type":"text","text":"x"}]}]})",
     "input[0].content[0].type", "input_text"},
    {R"({"model":"m","input":[{"role":"user","content":[{"type":"input_text"}]}]})",
     "input[0].content[0].text", "Missing"},
    {R"({"model":"m","input":[{"role":"user","content":[{"type":"input_image"}]}]})",
     "input[0].content[0]", "image_url or a file_id"},
    {R"({"model":"m","input":[{"role":"user","content":[{"type":"input_image",
        "image_url":"u","detail":"max"}]}]})",
     "input[0].content[0].detail", "max"},
    {R"({"model":"m","input":[{"type":"function_call","name":"f","arguments":"{}"}]})",
     "input[0].call_id", "Missing"},
    {R"({"model":"m","input":[{"type":"function_call","call_id":"c","name":"f",
        "arguments":{}}]})",
     "input[0].arguments", "expected a string"},
    {R"({"model":"m","input":[{"type":"function_call_output","call_id":"c","output":5}]})",
     "input[0].output", "a string or an array"},
    {R"({"model":"m","input":"x","instructions":5})", "instructions", "expected a string"},
    {R"({"model":"m","input":"x","tools":{}})", "tools", "expected an array"},
    {R"({"model":"m","input":"x","tools":[{"name":"f"}]})", "tools[0].type", "Missing"},
    {R"({"model":"m","input":"x","tools":[{"type":"function"}]})", "tools[0].name", "Missing"},
    {R"({"model":"m","input":"x","tools":[{"type":"function","name":"f","parameters":[]}]})",
     "tools[0].parameters", "expected an object"},
    {R"({"model":"m","input":"x","tools":[{"type":"function","name":"f","strict":"yes"}]})",
     "tools[0].strict", "expected a boolean"},
    {R"({"model":"m","input":"x","tool_choice":"any"})", "tool_choice", "'auto'"},
    {R"({"model":"m","input":"x","tool_choice":{"type":"function"}})", "tool_choice.name",
     "Missing"},
    {R"({"model":"m","input":"x","tool_choice":5})", "tool_choice", "a string or an object"},
    {R"({"model":"m","input":"x","text":{"format":{"type":"yaml"}}})", "text.format.type",
     "json_schema"},
    {R"({"model":"m","input":"x","text":{"format":{"type":"json_schema","schema":{}}}})",
     "text.format.name", "Missing"},
    {R"({"model":"m","input":"x","text":{"format":{"type":"json_schema","name":"n"}}})",
     "text.format.schema", "Missing"},
    {R"({"model":"m","input":"x","text":{"format":{"type":"json_schema","name":"n",
        "schema":{"type":"array"}}}})",
     "text.format.schema", "type: \"object\""},
    {R"({"model":"m","input":"x","max_output_tokens":0})", "max_output_tokens", "at least 1"},
    {R"({"model":"m","input":"x","max_output_tokens":1.5})", "max_output_tokens",
     "expected an integer"},
    {R"({"model":"m","input":"x","temperature":2.5})", "temperature", "<= 2, but got 2.5"},
    {R"({"model":"m","input":"x","top_p":-0.1})", "top_p", ">= 0"},
    {R"({"model":"m","input":"x","metadata":{"a":1}})", "metadata.a", "expected a string"},
    {R"({"model":"m","input":"x","parallel_tool_calls":"yes"})", "parallel_tool_calls",
     "expected a boolean"},
    {R"({"model":"m","input":"x","store":1})", "store", "expected a boolean"},
    {R"({"model":"m","input":"x","stream":"true"})", "stream", "expected a boolean"},
    {R"({"model":"m","input":"x","previous_response_id":5})", "previous_response_id",
     "expected a string"},
    {R"({"model":"m","input":"x","reasoning":{"effort":"extreme"}})", "reasoning.effort",
     "extreme"},
};

TEST(DecodeResponsesRequest, NamesTheOffendingParameter) {
  for (const auto& c : kBad) {
    SCOPED_TRACE(c.body);
    const core::Error e = DecodeError(c.body);
    EXPECT_EQ(e.code, core::Errc::kInvalidRequest);
    EXPECT_EQ(e.param, c.param);
    EXPECT_NE(e.message.find(c.message_part), std::string::npos) << e.message;
  }
}

// Regression: `none` and `xhigh` were accepted, but the message listed only four values.
TEST(DecodeResponsesRequest, AnUnknownEffortListsEveryAcceptedValue) {
  const core::Error e = DecodeError(R"({"model":"m","input":"x","reasoning":{"effort":"max"}})");
  EXPECT_EQ(e.param, "reasoning.effort");
  EXPECT_EQ(e.message,
            "Invalid value for 'reasoning.effort': 'max'. Supported values are: 'none', "
            "'minimal', 'low', 'medium', 'high', and 'xhigh'.");
  for (const char* effort : {"none", "minimal", "low", "medium", "high", "xhigh"}) {
    core::Request out;
    EXPECT_TRUE(Decode(
        std::string(R"({"model":"m","input":"x","reasoning":{"effort":")") + effort + R"("}})",
        out))
        << effort;
  }
}

TEST(DecodeResponsesRequest, MetadataLimitsAreOpenAis) {
  std::string many = R"({"model":"m","input":"x","metadata":{)";
  for (int i = 0; i < 17; ++i)
    many += (i ? "," : "") + std::string("\"k") + std::to_string(i) + "\":\"v\"";
  many += "}}";
  EXPECT_EQ(DecodeError(many).param, "metadata");
  const std::string long_key =
      R"({"model":"m","input":"x","metadata":{")" + std::string(65, 'k') + R"(":"v"}})";
  EXPECT_EQ(DecodeError(long_key).param, "metadata");
  const std::string long_value =
      R"({"model":"m","input":"x","metadata":{"k":")" + std::string(513, 'v') + R"("}})";
  EXPECT_EQ(DecodeError(long_value).param, "metadata.k");
  core::Request out;
  const std::string at_limit = R"({"model":"m","input":"x","metadata":{")" + std::string(64, 'k') +
                               R"(":")" + std::string(512, 'v') + R"("}})";
  EXPECT_TRUE(Decode(at_limit, out));
}

TEST(DecodeResponsesRequest, NotAnObjectHasNoParam) {
  const core::Error e = DecodeError("[1]");
  EXPECT_EQ(e.param, "");
  EXPECT_EQ(DecodeError("{").param, "");
}

TEST(CheckFunctionCallOutputs, EachOutputNeedsAnEarlierCall) {
  auto input = [](std::string_view text) { return json::parse(text).as_array(); };
  EXPECT_TRUE(CheckFunctionCallOutputs(input(R"([
      {"type":"function_call","call_id":"c1","name":"f","arguments":"{}"},
      {"type":"function_call_output","call_id":"c1","output":"1"}])")));
  EXPECT_TRUE(CheckFunctionCallOutputs(input(R"([{"role":"user","content":"x"}])")));
  // The call comes after its output: not found.
  auto late = CheckFunctionCallOutputs(input(R"([{"role":"user","content":"x"},
      {"type":"function_call_output","call_id":"c1","output":"1"},
      {"type":"function_call","call_id":"c1","name":"f","arguments":"{}"}])"));
  ASSERT_FALSE(late);
  EXPECT_EQ(late.error().param, "input[1].call_id");
  EXPECT_NE(late.error().message.find("No tool call found for function call output with call_id "
                                      "c1"),
            std::string::npos);
  auto other = CheckFunctionCallOutputs(input(R"([
      {"type":"function_call","call_id":"c1","name":"f","arguments":"{}"},
      {"type":"function_call_output","call_id":"c2","output":"1"}])"));
  ASSERT_FALSE(other);
  EXPECT_EQ(other.error().param, "input[1].call_id");
}

// What an 8 MiB body holds: 40,000 turns, then a call and 20,000 outputs naming it. Checked in
// one pass (a search back from each output took about 10^9 steps here, and held the worker).
TEST(CheckFunctionCallOutputs, ManyItemsAreCheckedInOnePass) {
  json::array input;
  for (int i = 0; i < 40'000; ++i) input.push_back(json::object{{"role", "user"}, {"content", ""}});
  input.push_back(json::object{{"type", "function_call"}, {"call_id", "a"}, {"name", "f"}});
  for (int i = 0; i < 20'000; ++i) {
    input.push_back(json::object{{"type", "function_call_output"}, {"call_id", "a"}});
  }
  EXPECT_TRUE(CheckFunctionCallOutputs(input));
  input.push_back(json::object{{"type", "function_call_output"}, {"call_id", "b"}});
  auto missing = CheckFunctionCallOutputs(input);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().param, "input[60001].call_id");
}

}  // namespace
}  // namespace sy::api::responses
