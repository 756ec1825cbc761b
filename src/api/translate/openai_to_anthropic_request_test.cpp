#include <string>

#include <gtest/gtest.h>

#include "api/translate/translate.h"
#include "api/translate/translate_test_util.h"

namespace sy::api::translate {
namespace {

namespace json = boost::json;
using test_util::J;
using test_util::O;

// Translates `body` (which must succeed) and returns the Anthropic body.
json::value ToAnthropic(std::string_view body) {
  auto out = OpenAiToAnthropicRequest(O(body));
  EXPECT_TRUE(out.has_value()) << (out ? "" : out.error().param + ": " + out.error().message);
  return out ? json::value(*out) : json::value();
}

// Translates `body`, which must be refused, and returns the error.
core::Error Refusal(std::string_view body) {
  auto out = OpenAiToAnthropicRequest(O(body));
  EXPECT_FALSE(out.has_value()) << json::serialize(*out);
  return out ? core::Error{} : out.error();
}

void ExpectRefused(std::string_view body, std::string_view param, std::string_view says) {
  const auto e = Refusal(body);
  EXPECT_EQ(e.code, core::Errc::kInvalidRequest);
  EXPECT_EQ(e.param, param);
  EXPECT_NE(e.message.find(says), std::string::npos) << e.message;
  EXPECT_NE(e.message.find("Anthropic Messages API"), std::string::npos) << e.message;
}

TEST(OpenAiToAnthropicRequest, MinimalDropsModelKeepsStream) {
  EXPECT_EQ(ToAnthropic(R"({"model":"gpt-4o","stream":true,
                            "messages":[{"role":"user","content":"Hi"}]})"),
            J(R"({"stream":true,"messages":[{"role":"user","content":"Hi"}]})"));
}

TEST(OpenAiToAnthropicRequest, SystemAndDeveloperMessagesAnywhereBecomeSystemBlocksInOrder) {
  EXPECT_EQ(ToAnthropic(R"({"model":"m","messages":[
              {"role":"system","content":"Be brief."},
              {"role":"user","content":"Hi"},
              {"role":"developer","content":[{"type":"text","text":"Answer in French."}]},
              {"role":"user","content":"Again"}]})"),
            J(R"({"system":[{"type":"text","text":"Be brief."},
                            {"type":"text","text":"Answer in French."}],
                  "messages":[{"role":"user","content":[{"type":"text","text":"Hi"},
                                                        {"type":"text","text":"Again"}]}]})"));
}

TEST(OpenAiToAnthropicRequest, ImagePartsBecomeImageBlocks) {
  EXPECT_EQ(ToAnthropic(R"({"model":"m","messages":[{"role":"user","content":[
          {"type":"text","text":"Compare"},
          {"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgo=","detail":"low"}},
          {"type":"image_url","image_url":{"url":"data:image/jpg;base64,/9j/4AAQ"}},
          {"type":"image_url","image_url":{"url":"https://example.com/cat.webp"}}]}]})"),
            J(R"({"messages":[{"role":"user","content":[
          {"type":"text","text":"Compare"},
          {"type":"image","source":{"type":"base64","media_type":"image/png","data":"iVBORw0KGgo="}},
          {"type":"image","source":{"type":"base64","media_type":"image/jpeg","data":"/9j/4AAQ"}},
          {"type":"image","source":{"type":"url","url":"https://example.com/cat.webp"}}]}]})"));
}

TEST(OpenAiToAnthropicRequest, RefusesImagesAnthropicCannotRead) {
  ExpectRefused(R"({"model":"m","messages":[{"role":"user","content":[{"type":"text","text":"x"},
                  {"type":"image_url","image_url":{"url":"data:image/bmp;base64,Qk0="}}]}]})",
                "messages[0].content[1].image_url.url", "image/bmp");
  ExpectRefused(R"({"model":"m","messages":[{"role":"user","content":[
                  {"type":"image_url","image_url":{"url":"data:image/png,rawbytes"}}]}]})",
                "messages[0].content[0].image_url.url", "not base64");
  ExpectRefused(R"({"model":"m","messages":[{"role":"user","content":[
                  {"type":"image_url","image_url":{"url":"ftp://example.com/a.png"}}]}]})",
                "messages[0].content[0].image_url.url", "http");
}

TEST(OpenAiToAnthropicRequest, RefusesAudioAndFileParts) {
  ExpectRefused(R"({"model":"m","messages":[{"role":"system","content":"s"},{"role":"user",
                  "content":[{"type":"input_audio","input_audio":{"data":"UklG","format":"wav"}}]}]})",
                "messages[1].content[0]", "audio");
  ExpectRefused(R"({"model":"m","messages":[{"role":"user","content":[{"type":"text","text":"x"},
                  {"type":"file","file":{"file_id":"file-1"}}]}]})",
                "messages[0].content[1]", "file");
}

TEST(OpenAiToAnthropicRequest, AssistantTextAndToolCallsBecomeBlocks) {
  EXPECT_EQ(ToAnthropic(R"({"model":"m","messages":[
              {"role":"user","content":"Weather in Paris and Rome?"},
              {"role":"assistant","content":[{"type":"text","text":"Checking."},
                                             {"type":"refusal","refusal":"no"}],
               "tool_calls":[
                 {"id":"call_1","type":"function","function":{"name":"weather","arguments":"{\"city\":\"Paris\"}"}},
                 {"id":"call_2","type":"function","function":{"name":"now","arguments":""}}]}]})"),
            J(R"({"messages":[{"role":"user","content":"Weather in Paris and Rome?"},
                  {"role":"assistant","content":[
                    {"type":"text","text":"Checking."},
                    {"type":"tool_use","id":"call_1","name":"weather","input":{"city":"Paris"}},
                    {"type":"tool_use","id":"call_2","name":"now","input":{}}]}]})"));
}

TEST(OpenAiToAnthropicRequest, RefusesToolCallArgumentsThatAreNotAnObject) {
  ExpectRefused(R"({"model":"m","messages":[{"role":"user","content":"x"},
                  {"role":"assistant","content":null,"tool_calls":[
                    {"id":"a","type":"function","function":{"name":"f","arguments":"{}"}},
                    {"id":"b","type":"function","function":{"name":"f","arguments":"[1,2]"}}]}]})",
                "messages[1].tool_calls[1].function.arguments", "JSON object");
  ExpectRefused(R"({"model":"m","messages":[{"role":"assistant","content":null,"tool_calls":[
                    {"id":"a","type":"function","function":{"name":"f","arguments":"{oops"}}]}]})",
                "messages[0].tool_calls[0].function.arguments", "JSON object");
}

TEST(OpenAiToAnthropicRequest, ToolCallArgumentsAsDeepAsTheBodyMayNestBecomeTheInput) {
  // An earlier answer's arguments, following a deep tool schema: {"x": 40 nested arrays}.
  const std::string body =
      R"({"model":"m","messages":[{"role":"assistant","content":null,"tool_calls":[)"
      R"({"id":"a","type":"function","function":{"name":"f","arguments":"{\"x\":)" +
      std::string(40, '[') + std::string(40, ']') + R"(}"}}]}]})";
  auto out = OpenAiToAnthropicRequest(O(body), {}, {}, core::kDefaultMaxJsonDepth);
  ASSERT_TRUE(out.has_value()) << out.error().message;
  const auto& input = out->at("messages").at(0).at("content").at(0).at("input");
  EXPECT_TRUE(input.at("x").is_array());
  // 24 + 16 = 40 levels allowed: the arguments (41) are refused as not a JSON object.
  out = OpenAiToAnthropicRequest(O(body), {}, {}, 24);
  ASSERT_FALSE(out.has_value());
  EXPECT_EQ(out.error().param, "messages[0].tool_calls[0].function.arguments");
}

TEST(OpenAiToAnthropicRequest, RefusesLegacyFunctionsEverywhere) {
  ExpectRefused(R"({"model":"m","messages":[{"role":"assistant","content":null,
                  "function_call":{"name":"f","arguments":"{}"}}]})",
                "messages[0].function_call", "function_call");
  ExpectRefused(R"({"model":"m","messages":[{"role":"function","name":"f","content":"1"}]})",
                "messages[0].role", "function message");
  ExpectRefused(
      R"({"model":"m","functions":[{"name":"f"}],"messages":[{"role":"user","content":"x"}]})",
      "functions", "tools");
}

TEST(OpenAiToAnthropicRequest, ToolMessagesBecomeToolResultsInOneUserTurn) {
  EXPECT_EQ(ToAnthropic(R"({"model":"m","messages":[
          {"role":"user","content":"Weather?"},
          {"role":"assistant","tool_calls":[
            {"id":"call_1","type":"function","function":{"name":"w","arguments":"{}"}},
            {"id":"call_2","type":"function","function":{"name":"w","arguments":"{}"}}]},
          {"role":"tool","tool_call_id":"call_1","content":"18C"},
          {"role":"tool","tool_call_id":"call_2","content":[{"type":"text","text":"21C"}]},
          {"role":"user","content":"Thanks"}]})"),
            J(R"({"messages":[
          {"role":"user","content":"Weather?"},
          {"role":"assistant","content":[
            {"type":"tool_use","id":"call_1","name":"w","input":{}},
            {"type":"tool_use","id":"call_2","name":"w","input":{}}]},
          {"role":"user","content":[
            {"type":"tool_result","tool_use_id":"call_1","content":"18C"},
            {"type":"tool_result","tool_use_id":"call_2","content":[{"type":"text","text":"21C"}]},
            {"type":"text","text":"Thanks"}]}]})"));
}

TEST(OpenAiToAnthropicRequest, ToolResultsMoveBeforeTextInAMergedUserTurn) {
  // Anthropic requires tool_result blocks first in their user message.
  EXPECT_EQ(ToAnthropic(R"({"model":"m","messages":[
              {"role":"assistant","tool_calls":[
                {"id":"c","type":"function","function":{"name":"w","arguments":"{}"}}]},
              {"role":"user","content":"Note: metric units"},
              {"role":"tool","tool_call_id":"c","content":"18C"}]})"),
            J(R"({"messages":[
              {"role":"assistant","content":[{"type":"tool_use","id":"c","name":"w","input":{}}]},
              {"role":"user","content":[
                {"type":"tool_result","tool_use_id":"c","content":"18C"},
                {"type":"text","text":"Note: metric units"}]}]})"));
}

TEST(OpenAiToAnthropicRequest, EmptyAssistantTurnIsDroppedAndItsNeighboursMerged) {
  EXPECT_EQ(ToAnthropic(R"({"model":"m","messages":[
              {"role":"user","content":"a"},{"role":"assistant","content":""},
              {"role":"user","content":"b"},{"role":"assistant","content":"c"},
              {"role":"assistant","content":"d"}]})"),
            J(R"({"messages":[
              {"role":"user","content":[{"type":"text","text":"a"},{"type":"text","text":"b"}]},
              {"role":"assistant","content":[{"type":"text","text":"c"},{"type":"text","text":"d"}]}]})"));
}

TEST(OpenAiToAnthropicRequest, RefusesNonTextToolAndSystemContent) {
  ExpectRefused(R"({"model":"m","messages":[{"role":"tool","tool_call_id":"c","content":[
                  {"type":"image_url","image_url":{"url":"https://x/y.png"}}]}]})",
                "messages[0].content[0]", "non-text part");
  ExpectRefused(R"({"model":"m","messages":[{"role":"system","content":[
                  {"type":"text","text":"a"},{"type":"image_url","image_url":{"url":"https://x"}}]}]})",
                "messages[0].content[1]", "non-text part");
}

TEST(OpenAiToAnthropicRequest, SamplingAndLimits) {
  EXPECT_EQ(ToAnthropic(R"({"model":"m","messages":[{"role":"user","content":"x"}],
              "max_tokens":100,"max_completion_tokens":200,"stop":"END",
              "temperature":0.5,"top_p":0.9,"user":"u-42"})"),
            J(R"({"messages":[{"role":"user","content":"x"}],"max_tokens":200,
                  "stop_sequences":["END"],"temperature":0.5,"top_p":0.9,
                  "metadata":{"user_id":"u-42"}})"));
  EXPECT_EQ(ToAnthropic(R"({"model":"m","messages":[{"role":"user","content":"x"}],
              "max_tokens":100,"stop":["a","b"],"temperature":1})"),
            J(R"({"messages":[{"role":"user","content":"x"}],"max_tokens":100,
                  "stop_sequences":["a","b"],"temperature":1})"));
}

TEST(OpenAiToAnthropicRequest, RefusesTemperatureAboveOne) {
  ExpectRefused(R"({"model":"m","temperature":1.3,"messages":[{"role":"user","content":"x"}]})",
                "temperature", "0 to 1");
}

TEST(OpenAiToAnthropicRequest, ToolsAndToolChoice) {
  EXPECT_EQ(ToAnthropic(R"({"model":"m","messages":[{"role":"user","content":"x"}],
          "tools":[{"type":"function","function":{"name":"w","description":"Weather","strict":true,
                      "parameters":{"type":"object","properties":{"city":{"type":"string"}}}}},
                   {"type":"function","function":{"name":"now"}}],
          "tool_choice":"required"})"),
            J(R"({"messages":[{"role":"user","content":"x"}],
          "tools":[{"name":"w","description":"Weather",
                    "input_schema":{"type":"object","properties":{"city":{"type":"string"}}}},
                   {"name":"now","input_schema":{"type":"object","properties":{}}}],
          "tool_choice":{"type":"any"}})"));
}

TEST(OpenAiToAnthropicRequest, ToolChoiceValues) {
  const std::string head =
      R"({"model":"m","messages":[{"role":"user","content":"x"}],
          "tools":[{"type":"function","function":{"name":"w"}}],)";
  auto choice = [&](std::string_view rest) {
    auto out = ToAnthropic(head + std::string(rest) + "}");
    const auto* c = out.is_object() ? out.get_object().if_contains("tool_choice") : nullptr;
    return c ? *c : json::value();
  };
  EXPECT_EQ(choice(R"("tool_choice":"none")"), J(R"({"type":"none"})"));
  EXPECT_EQ(choice(R"("tool_choice":"auto")"), J(R"({"type":"auto"})"));
  EXPECT_EQ(choice(R"("tool_choice":"required")"), J(R"({"type":"any"})"));
  EXPECT_EQ(choice(R"("tool_choice":{"type":"function","function":{"name":"w"}})"),
            J(R"({"type":"tool","name":"w"})"));
  EXPECT_EQ(choice(R"("parallel_tool_calls":false)"),
            J(R"({"type":"auto","disable_parallel_tool_use":true})"));
  EXPECT_EQ(choice(R"("tool_choice":"required","parallel_tool_calls":false)"),
            J(R"({"type":"any","disable_parallel_tool_use":true})"));
  EXPECT_EQ(choice(R"("tool_choice":"none","parallel_tool_calls":false)"), J(R"({"type":"none"})"));
  EXPECT_EQ(choice(R"("parallel_tool_calls":true)"), json::value());
}

TEST(OpenAiToAnthropicRequest, RefusesToolsAnthropicCannotCall) {
  ExpectRefused(R"({"model":"m","messages":[{"role":"user","content":"x"}],
                  "tools":[{"type":"function","function":{"name":"w"}},
                           {"type":"custom","custom":{"name":"grammar"}}]})",
                "tools[1].type", "custom");
  ExpectRefused(R"({"model":"m","messages":[{"role":"user","content":"x"}],
                  "tools":[{"type":"function","function":{"name":"w"}}],
                  "tool_choice":{"type":"allowed_tools","allowed_tools":{"mode":"auto","tools":[]}}})",
                "tool_choice", "tool_choice");
}

TEST(OpenAiToAnthropicRequest, DropsWhatDoesNotChangeTheAnswer) {
  EXPECT_EQ(ToAnthropic(R"({"model":"m","messages":[{"role":"user","content":"x"}],
              "stream_options":{"include_usage":true},"store":false,"metadata":{"a":"b"},
              "service_tier":"auto","seed":7,"prediction":{"type":"content","content":"x"},
              "reasoning_effort":"low","safety_identifier":"s","prompt_cache_key":"k",
              "frequency_penalty":0,"presence_penalty":0.0,"logprobs":false,"n":1,
              "response_format":{"type":"text"},"logit_bias":{},"modalities":["text"],
              "top_logprobs":null,"audio":null})"),
            J(R"({"messages":[{"role":"user","content":"x"}]})"));
}

TEST(OpenAiToAnthropicRequest, RefusesWhatAnthropicCannotExpress) {
  const std::string msgs = R"("messages":[{"role":"user","content":"x"}])";
  auto body = [&](std::string_view field) {
    return "{\"model\":\"m\"," + msgs + "," + std::string(field) + "}";
  };
  ExpectRefused(body(R"("n":2)"), "n", "'n' > 1");
  ExpectRefused(body(R"("logprobs":true)"), "logprobs", "log probabilities");
  ExpectRefused(body(R"("top_logprobs":3)"), "top_logprobs", "log probabilities");
  ExpectRefused(body(R"("logit_bias":{"50256":-100})"), "logit_bias", "logit biases");
  ExpectRefused(body(R"("frequency_penalty":0.5)"), "frequency_penalty", "frequency_penalty");
  ExpectRefused(body(R"("presence_penalty":-1)"), "presence_penalty", "presence_penalty");
  ExpectRefused(body(R"("modalities":["text","audio"])"), "modalities", "audio");
  ExpectRefused(body(R"("audio":{"voice":"alloy","format":"mp3"})"), "audio", "audio");
  ExpectRefused(body(R"("web_search_options":{})"), "web_search_options", "web search");
  ExpectRefused(body(R"("verbosity":"low")"), "verbosity", "'verbosity'");
}

// --- Structured output (structured_output.cpp) ------------------------------------------------

constexpr std::string_view kMsgs = R"("model":"m","messages":[{"role":"user","content":"x"}])";
constexpr std::string_view kObjectSchema =
    R"({"type":"object","properties":{"a":{"type":"string"}},"required":["a"]})";

std::string WithSchema(std::string_view schema, std::string_view rest = "") {
  return "{" + std::string(kMsgs) +
         R"(,"response_format":{"type":"json_schema","json_schema":{"name":"n","strict":true,)" +
         R"("schema":)" + std::string(schema) + "}}" + std::string(rest) + "}";
}

json::value ToAnthropicWithout(std::string_view body) {  // a target without native output
  auto out = OpenAiToAnthropicRequest(O(body), {}, TargetModel{.native_structured_output = false});
  EXPECT_TRUE(out.has_value()) << (out ? "" : out.error().param + ": " + out.error().message);
  return out ? json::value(*out) : json::value();
}

// The answer tool as the translator adds it, with `schema` as its input.
std::string AnswerTool(std::string_view schema) {
  return R"({"name":"switchyard_json_answer","description":"Respond by calling this tool with )"
         R"(the answer as its input.","input_schema":)" +
         std::string(schema) + "}";
}

TEST(OpenAiToAnthropicRequest, NativeJsonSchemaBecomesOutputConfigFormat) {
  EXPECT_EQ(ToAnthropic(WithSchema(kObjectSchema)),
            J(R"({"messages":[{"role":"user","content":"x"}],"output_config":{"format":{
                  "type":"json_schema","schema":)" +
              std::string(kObjectSchema) + "}}}"));
  // A native format takes any root: the upstream judges its own schema subset.
  const auto out = ToAnthropic(WithSchema(R"({"type":"array","items":{"type":"string"}})"));
  EXPECT_EQ(out.at("output_config").at("format").at("schema").at("type"), "array");
}

TEST(OpenAiToAnthropicRequest, JsonSchemaWithoutNativeSupportIsAForcedTool) {
  EXPECT_EQ(
      ToAnthropicWithout(WithSchema(kObjectSchema)),
      J(R"({"messages":[{"role":"user","content":"x"}],"tools":[)" + AnswerTool(kObjectSchema) +
        R"(],"tool_choice":{"type":"tool","name":"switchyard_json_answer"}})"));
}

TEST(OpenAiToAnthropicRequest, JsonObjectIsAlwaysAForcedToolOverAnyObject) {
  const std::string body =
      "{" + std::string(kMsgs) + R"(,"response_format":{"type":"json_object"}})";
  const auto expected = J(R"({"messages":[{"role":"user","content":"x"}],"tools":[)" +
                          AnswerTool(R"({"type":"object"})") +
                          R"(],"tool_choice":{"type":"tool","name":"switchyard_json_answer"}})");
  EXPECT_EQ(ToAnthropic(body), expected);
  EXPECT_EQ(ToAnthropicWithout(body), expected);
}

// The interaction of the forced answer tool with the client's tools and tool_choice.
TEST(OpenAiToAnthropicRequest, JsonAnswerToolChoiceTable) {
  const std::string client_tool = R"({"type":"function","function":{"name":"w"}})";
  const std::string w = R"({"name":"w","input_schema":{"type":"object","properties":{}}})";
  const std::string ours = AnswerTool(R"({"type":"object"})");
  struct Row {
    std::string rest;         // the client's tools and tool_choice
    std::string tools;        // the Anthropic tools
    std::string tool_choice;  // the Anthropic tool_choice
  };
  const std::string force_ours = R"({"type":"tool","name":"switchyard_json_answer"})";
  const Row rows[] = {
      {"", "[" + ours + "]", force_ours},
      {R"(,"tools":[])", "[" + ours + "]", force_ours},
      {R"(,"tool_choice":"none")", "[" + ours + "]", force_ours},
      {R"(,"tool_choice":"auto")", "[" + ours + "]", force_ours},
      {R"(,"tool_choice":"required")", "[" + ours + "]", force_ours},
      {R"(,"tools":[)" + client_tool + "]", "[" + w + "," + ours + "]", R"({"type":"any"})"},
      {R"(,"tools":[)" + client_tool + R"(],"tool_choice":"auto")", "[" + w + "," + ours + "]",
       R"({"type":"any"})"},
      {R"(,"tools":[)" + client_tool + R"(],"tool_choice":"none")", "[" + w + "," + ours + "]",
       force_ours},
      {R"(,"tools":[)" + client_tool + R"(],"tool_choice":"required")", "[" + w + "]",
       R"({"type":"any"})"},
      {R"(,"tools":[)" + client_tool +
           R"(],"tool_choice":{"type":"function","function":{"name":"w"}})",
       "[" + w + "]", R"({"type":"tool","name":"w"})"},
      {R"(,"tools":[)" + client_tool + R"(],"parallel_tool_calls":false)",
       "[" + w + "," + ours + "]", R"({"type":"any","disable_parallel_tool_use":true})"},
  };
  for (const auto& row : rows) {
    SCOPED_TRACE(row.rest);
    const auto out = ToAnthropicWithout(
        "{" + std::string(kMsgs) + R"(,"response_format":{"type":"json_object"})" + row.rest + "}");
    ASSERT_TRUE(out.is_object());
    EXPECT_EQ(out.at("tools"), J(row.tools));
    EXPECT_EQ(out.at("tool_choice"), J(row.tool_choice));
  }
}

TEST(OpenAiToAnthropicRequest, StructuredOutputRefusals) {
  // A tool input is an object: without native output, another root cannot be asked for.
  auto out = OpenAiToAnthropicRequest(O(WithSchema(R"({"type":"string"})")), {},
                                      TargetModel{.native_structured_output = false});
  ASSERT_FALSE(out.has_value());
  EXPECT_EQ(out.error().param, "response_format.json_schema.schema");
  EXPECT_NE(out.error().message.find("root is not of type \"object\""), std::string::npos);
  // Without a schema there is nothing to answer in.
  const std::string no_schema =
      "{" + std::string(kMsgs) +
      R"(,"response_format":{"type":"json_schema","json_schema":{"name":"n"}}})";
  EXPECT_EQ(Refusal(no_schema).param, "response_format.json_schema.schema");
  ExpectRefused("{" + std::string(kMsgs) + R"(,"response_format":{"type":"grammar"}})",
                "response_format.type", "grammar");
  EXPECT_EQ(Refusal("{" + std::string(kMsgs) + R"(,"response_format":"json"})").param,
            "response_format.type");
  // The answer tool's name is reserved, with or without response_format: a call of it is
  // unwrapped into content on the way back.
  const auto reserved = Refusal("{" + std::string(kMsgs) + R"(,"tools":[{"type":"function",)" +
                                R"("function":{"name":"switchyard_json_answer"}}]})");
  EXPECT_EQ(reserved.param, "tools[0].function.name");
  EXPECT_NE(reserved.message.find("reserved"), std::string::npos) << reserved.message;
}

TEST(OpenAiToAnthropicRequest, JsonSchemaDescriptionReachesTheModel) {
  const std::string body = "{" + std::string(kMsgs) +
                           R"(,"response_format":{"type":"json_schema","json_schema":{"name":"n",)"
                           R"("description":"A city","schema":{"type":"object"}}}})";
  EXPECT_EQ(ToAnthropic(body).at("output_config"), J(R"({"format":{"type":"json_schema",
                            "schema":{"type":"object","description":"A city"}}})"));
  EXPECT_EQ(ToAnthropicWithout(body).at_pointer("/tools/0/description"),
            "Respond by calling this tool with the answer as its input. The answer: A city");
}

TEST(OpenAiToAnthropicRequest, ResultUsesTheGivenStorage) {
  auto sp = json::make_shared_resource<json::monotonic_resource>();
  auto out = OpenAiToAnthropicRequest(
      O(R"({"model":"m","messages":[{"role":"user","content":"x"}]})"), sp);
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(out->storage().get(), sp.get());
}

}  // namespace
}  // namespace sy::api::translate
