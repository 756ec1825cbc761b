#include "verify/verify.h"

#include <string>
#include <vector>

#include <boost/json.hpp>
#include <gtest/gtest.h>

namespace sy::verify {
namespace {

namespace json = boost::json;

Check Make(CheckKind kind) { return Check{kind, "", nullptr, kDefaultMinSupport}; }

Output Text(std::string text) {
  Output out;
  out.text = std::move(text);
  return out;
}

Options Defaults() { return Options{DefaultRefusalPhrases()}; }

std::shared_ptr<const CompiledSchema> Schema(const char* text) {
  return *CompileSchema(json::parse(text), "s");
}

constexpr const char* kAgeSchema =
    R"({"type":"object","properties":{"age":{"type":"integer"}},"required":["age"]})";

struct RunCase {
  const char* name;
  CheckKind kind;
  Output output;
  std::string reason;  // "" when it passes
};

TEST(RunTest, EachCheckBothWays) {
  Spec spec;
  spec.answer_schema = Schema(kAgeSchema);
  Output truncated = Text("{\"age\": 4");
  truncated.truncated = true;
  Output refusal_field;
  refusal_field.refusal = "I can't do that.";
  Output filtered = Text("partial");
  filtered.stop = Stop::kContentFilter;
  Output call;
  call.tool_calls.push_back({"lookup", "{}"});
  const RunCase cases[] = {
      {"json ok", CheckKind::kJson, Text("  {\"a\": [1, 2]}\n"), ""},
      {"json fenced", CheckKind::kJson, Text("```json\n{\"a\":1}\n```"),
       "json: not JSON: syntax error"},
      {"json truncated", CheckKind::kJson, truncated, "json: answer truncated"},
      {"schema ok", CheckKind::kJsonSchema, Text("{\"age\": 41}"), ""},
      {"schema wrong type", CheckKind::kJsonSchema, Text("{\"age\": \"41\"}"),
       "json_schema: /age: Value type not permitted by 'type' constraint. (and 1 more)"},
      {"schema not json", CheckKind::kJsonSchema, Text("age 41"),
       "json_schema: not JSON: syntax error"},
      {"non_empty text", CheckKind::kNonEmpty, Text(" x "), ""},
      {"non_empty call", CheckKind::kNonEmpty, call, ""},
      {"non_empty blank", CheckKind::kNonEmpty, Text(" \n\t"), "non_empty: empty answer"},
      {"no_refusal ok", CheckKind::kNoRefusal, Text("Here is the summary you asked for."), ""},
      {"no_refusal phrase", CheckKind::kNoRefusal,
       Text("I\xE2\x80\x99m sorry, but I can\xE2\x80\x99t help with that."),
       "no_refusal: refusal phrase \"i can't help with\""},
      {"no_refusal field", CheckKind::kNoRefusal, refusal_field,
       "no_refusal: refused: I can't do that."},
      {"no_refusal filter", CheckKind::kNoRefusal, filtered,
       "no_refusal: the content filter stopped the answer"},
  };
  for (const auto& c : cases) {
    const Verdict v = verify::Run({Make(c.kind)}, spec, c.output, Defaults());
    EXPECT_EQ(v.passed, c.reason.empty()) << c.name;
    EXPECT_EQ(v.reason.substr(0, c.reason.size()), c.reason) << c.name;
    if (!c.reason.empty()) {
      EXPECT_EQ(v.failed, c.kind) << c.name;
    }
    EXPECT_EQ(v.ran, std::vector<CheckKind>{c.kind}) << c.name;
  }
}

TEST(RunTest, StopsAtTheFirstFailure) {
  const Verdict v =
      verify::Run({Make(CheckKind::kNonEmpty), Make(CheckKind::kJson), Make(CheckKind::kNoRefusal)},
                  Spec{}, Text("hello"), Defaults());
  EXPECT_FALSE(v.passed);
  EXPECT_EQ(v.failed, CheckKind::kJson);
  EXPECT_EQ(v.ran, (std::vector<CheckKind>{CheckKind::kNonEmpty, CheckKind::kJson}));
}

TEST(RunTest, JsonSchemaWithoutSchemaPassesAndForcedToolIsValidated) {
  EXPECT_TRUE(
      verify::Run({Make(CheckKind::kJsonSchema)}, Spec{}, Text("not json"), Defaults()).passed);
  Spec spec;
  spec.forced_tool = "person";
  spec.tools.push_back({"person", Schema(kAgeSchema)});
  Output good;
  good.tool_calls.push_back({"person", R"({"age": 3})"});
  Output bad;
  bad.tool_calls.push_back({"person", R"({})"});
  EXPECT_TRUE(verify::Run({Make(CheckKind::kJsonSchema)}, spec, good, Defaults()).passed);
  EXPECT_EQ(verify::Run({Make(CheckKind::kJsonSchema)}, spec, bad, Defaults()).reason,
            "json_schema: /: Missing required property 'age'.");
}

// `levels` nested arrays around a 1, and the schema that asks for exactly that shape (one level
// deeper than the answer: each "items" adds one).
std::string NestedArrays(int levels) {
  return std::string(static_cast<size_t>(levels), '[') + "1" +
         std::string(static_cast<size_t>(levels), ']');
}
std::string NestedArraySchema(int levels) {
  std::string out;
  for (int i = 0; i < levels; ++i) out += R"({"type":"array","items":)";
  out += R"({"type":"integer"})";
  for (int i = 0; i < levels; ++i) out += "}";
  return out;
}

TEST(RunTest, AnAnswerAsDeepAsTheClientsSchemaIsJson) {
  // Regression: answers were parsed at Boost.JSON's default depth (32), so an answer 40 levels
  // deep, valid under a schema the gateway accepted (41 levels, within the default
  // max_json_depth of 64), was rejected as "not JSON" and the request failed over.
  Spec spec;
  json::parse_options deep;
  deep.max_depth = 64;
  spec.answer_schema = *CompileSchema(json::parse(NestedArraySchema(40), {}, deep), "s");
  const Output answer = Text(NestedArrays(40));
  for (const CheckKind kind : {CheckKind::kJson, CheckKind::kJsonSchema}) {
    const Verdict v = verify::Run({Make(kind)}, spec, answer, Defaults());
    EXPECT_TRUE(v.passed) << CheckName(kind) << ": " << v.reason;
  }
  Output call;
  call.tool_calls.push_back({"nest", R"({"x":)" + NestedArrays(40) + "}"});
  spec.tools.push_back({"nest", nullptr});
  EXPECT_TRUE(verify::Run({Make(CheckKind::kToolCall)}, spec, call, Defaults()).passed);
}

TEST(RunTest, AnAnswerDeeperThanTheRequestsDepthAllowsIsNotJson) {
  Options options = Defaults();
  options.max_json_depth = 23;  // 23 + 16 = 39 levels allowed
  const Verdict v = verify::Run({Make(CheckKind::kJson)}, Spec{}, Text(NestedArrays(40)), options);
  EXPECT_FALSE(v.passed);
  EXPECT_EQ(v.reason.rfind("json: not JSON: ", 0), 0u) << v.reason;
}

TEST(RunTest, Regex) {
  const auto check = RegexCheck("^Answer: [0-9]+$");
  ASSERT_TRUE(check.has_value());
  EXPECT_TRUE(verify::Run({*check}, Spec{}, Text("Answer: 42"), Defaults()).passed);
  EXPECT_EQ(verify::Run({*check}, Spec{}, Text("Answer: none"), Defaults()).reason,
            "regex: no match for /^Answer: [0-9]+$/");
  const auto bad = RegexCheck("(unclosed");
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code, core::Errc::kInvalidRequest);
  EXPECT_EQ(bad.error().message.substr(0, 22), "invalid regex /(unclos");
  // Catastrophic backtracking: boost throws instead of running forever; the check fails.
  const auto evil = RegexCheck("(a+)+$");
  const Verdict v = verify::Run({*evil}, Spec{}, Text(std::string(3000, 'a') + "b"), Defaults());
  EXPECT_FALSE(v.passed);
  EXPECT_EQ(v.reason.substr(0, 42), "regex: pattern too complex for this answer");
}

TEST(RunTest, ToolCall) {
  Spec spec;
  spec.tool_required = true;
  spec.tools.push_back({"person", Schema(kAgeSchema)});
  spec.tools.push_back({"free", nullptr});
  auto calls = [](std::vector<ToolCall> c) {
    Output out;
    out.tool_calls = std::move(c);
    return out;
  };
  const auto check = Make(CheckKind::kToolCall);
  EXPECT_TRUE(
      verify::Run({check}, spec, calls({{"person", R"({"age":1})"}, {"free", "[]"}}), Defaults())
          .passed);
  EXPECT_EQ(verify::Run({check}, spec, Text("no call"), Defaults()).reason,
            "tool_call: no tool call, but one was required");
  EXPECT_EQ(verify::Run({check}, spec, calls({{"other", "{}"}}), Defaults()).reason,
            "tool_call: called \"other\", which was not offered");
  EXPECT_EQ(verify::Run({check}, spec, calls({{"free", "{oops"}}), Defaults()).reason,
            "tool_call: free: arguments not JSON: syntax error");
  EXPECT_EQ(verify::Run({check}, spec, calls({{"person", R"({"age":"x"})"}}), Defaults()).reason,
            "tool_call: person: /age: Value type not permitted by 'type' constraint. (and 1 more)");
  spec.forced_tool = "person";
  EXPECT_EQ(verify::Run({check}, spec, calls({{"free", "{}"}}), Defaults()).reason,
            "tool_call: called \"free\", not the forced tool");
  spec.tool_required = false;
  spec.forced_tool.clear();
  EXPECT_TRUE(verify::Run({check}, spec, Text("no call"), Defaults()).passed);
}

TEST(RunTest, Grounded) {
  Spec spec;
  spec.context = "Revenue was 120 million in 2024, said Anna Berg.";
  EXPECT_TRUE(verify::Run({Make(CheckKind::kGrounded)}, spec,
                          Text("Anna Berg reported 120 million."), Defaults())
                  .passed);
  EXPECT_EQ(
      verify::Run({Make(CheckKind::kGrounded)}, spec,
                  Text("Anna Berg reported 37.4% growth to $812 million and met Elena Marchetti."),
                  Defaults())
          .reason,
      "grounded: support 0.25 < 0.80; not in the context: 37.4%, $812 million, Elena "
      "Marchetti");
}

TEST(ParseCheckListTest, Table) {
  const auto ok = ParseCheckList(" json ,non_empty,json, grounded,");
  ASSERT_TRUE(ok.has_value());
  std::vector<CheckKind> kinds;
  for (const auto& c : *ok) kinds.push_back(c.kind);
  EXPECT_EQ(kinds,
            (std::vector<CheckKind>{CheckKind::kJson, CheckKind::kNonEmpty, CheckKind::kGrounded}));
  const std::pair<std::string, std::string> errors[] = {
      {"json,foo",
       "unknown verification check \"foo\" in x-switchyard-verify; known: json, json_schema, "
       "non_empty, no_refusal, tool_call, grounded"},
      {"regex", "the regex check needs a pattern, so only the config can ask for it"},
      {std::string(300, 'j'), "x-switchyard-verify is longer than 256 bytes"},
      {"json,json,json,json,json,json,json,json,json,json,json,json,json,json,json,json,json",
       "x-switchyard-verify names more than 16 checks"},
  };
  for (const auto& [header, message] : errors) {
    const auto r = ParseCheckList(header);
    ASSERT_FALSE(r.has_value()) << header;
    EXPECT_EQ(r.error().param, "x-switchyard-verify");
    EXPECT_EQ(r.error().message, message);
  }
  EXPECT_EQ(ParseCheckName("tool_call"), CheckKind::kToolCall);
  EXPECT_EQ(CheckName(CheckKind::kNoRefusal), "no_refusal");
}

const std::vector<Check> kSchemaAndTools = {Make(CheckKind::kJsonSchema),
                                            Make(CheckKind::kToolCall)};

TEST(ReadSpecTest, PerDialect) {
  const core::Prompt prompt;
  const auto chat = ReadSpec(core::Dialect::kOpenAiChat,
                             json::parse(R"({
      "response_format":{"type":"json_schema","json_schema":{"name":"p","schema":{"type":"object"}}},
      "tools":[{"type":"function","function":{"name":"f","parameters":{"type":"object"}}}],
      "tool_choice":{"type":"function","function":{"name":"f"}}})")
                                 .as_object(),
                             prompt, kSchemaAndTools);
  ASSERT_TRUE(chat.has_value()) << chat.error().message;
  EXPECT_TRUE(chat->answer_schema);
  EXPECT_EQ(chat->forced_tool, "f");
  EXPECT_TRUE(chat->tool_required);
  ASSERT_EQ(chat->tools.size(), 1u);
  EXPECT_TRUE(chat->tools[0].schema);

  const auto responses = ReadSpec(core::Dialect::kOpenAiResponses,
                                  json::parse(R"({
      "text":{"format":{"type":"json_schema","name":"p","schema":{"type":"object"}}},
      "tools":[{"type":"function","name":"g","parameters":{}},{"type":"web_search"}],
      "tool_choice":"required"})")
                                      .as_object(),
                                  prompt, kSchemaAndTools);
  ASSERT_TRUE(responses.has_value()) << responses.error().message;
  EXPECT_TRUE(responses->answer_schema);
  EXPECT_TRUE(responses->tool_required);
  EXPECT_EQ(responses->forced_tool, "");
  ASSERT_EQ(responses->tools.size(), 1u);
  EXPECT_EQ(responses->tools[0].name, "g");

  const auto anthropic = ReadSpec(core::Dialect::kAnthropicMessages,
                                  json::parse(R"({
      "output_config":{"format":{"type":"json_schema","schema":{"type":"object"}}},
      "tools":[{"name":"h","input_schema":{"type":"object"}}],
      "tool_choice":{"type":"any"}})")
                                      .as_object(),
                                  prompt, kSchemaAndTools);
  ASSERT_TRUE(anthropic.has_value()) << anthropic.error().message;
  EXPECT_TRUE(anthropic->answer_schema);
  EXPECT_TRUE(anthropic->tool_required);
  EXPECT_EQ(anthropic->tools[0].name, "h");
}

TEST(ReadSpecTest, BadSchemaNamesTheRequestField) {
  const core::Prompt prompt;
  const auto r = ReadSpec(core::Dialect::kOpenAiChat,
                          json::parse(R"({"tools":[
      {"type":"function","function":{"name":"a","parameters":{}}},
      {"type":"function","function":{"name":"b","parameters":{"properties":{"age":{"type":"intger"}}}}}]})")
                              .as_object(),
                          prompt, kSchemaAndTools);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().param, "tools[1].function.parameters");
  EXPECT_EQ(r.error().message,
            "tools[1].function.parameters: invalid JSON Schema at /properties/age/type: Failed to "
            "match against any enum values. (and 7 more)");
  // Not asked to verify: nothing is compiled, so nothing fails.
  EXPECT_TRUE(ReadSpec(core::Dialect::kOpenAiChat,
                       json::parse(R"({"tools":[
      {"type":"function","function":{"name":"b","parameters":{"type":7}}}]})")
                           .as_object(),
                       prompt, {Make(CheckKind::kNonEmpty)})
                  .has_value());
}

TEST(ReadSpecTest, ContextSkipsAssistantTurns) {
  core::Prompt prompt;
  prompt.AddText(core::PromptRole::kSystem, -1, "sys");
  prompt.AddText(core::PromptRole::kUser, 0, "doc");
  prompt.AddText(core::PromptRole::kAssistant, 1, "old answer");
  prompt.AddText(core::PromptRole::kTool, 2, "tool result");
  const auto r =
      ReadSpec(core::Dialect::kOpenAiChat, json::object{}, prompt, {Make(CheckKind::kGrounded)});
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->context, "sys\ndoc\ntool result");
}

TEST(ReadAnswerTest, PerDialect) {
  const auto chat = ReadAnswer(core::Dialect::kOpenAiChat, json::parse(R"({"choices":[{
      "message":{"role":"assistant","content":null,"refusal":null,"tool_calls":[
        {"id":"c1","type":"function","function":{"name":"f","arguments":"{\"x\":1}"}}]},
      "finish_reason":"tool_calls"}]})"));
  ASSERT_TRUE(chat.has_value());
  EXPECT_EQ(chat->stop, Stop::kToolUse);
  ASSERT_EQ(chat->tool_calls.size(), 1u);
  EXPECT_EQ(chat->tool_calls[0].arguments, "{\"x\":1}");

  const auto refusal = ReadAnswer(core::Dialect::kOpenAiChat, json::parse(R"({"choices":[{
      "message":{"content":null,"refusal":"No."},"finish_reason":"stop"}]})"));
  EXPECT_EQ(refusal->refusal, "No.");

  const auto anthropic = ReadAnswer(core::Dialect::kAnthropicMessages, json::parse(R"({
      "content":[{"type":"text","text":"a"},{"type":"text","text":"b"},
                 {"type":"tool_use","id":"t","name":"switchyard_json_answer","input":{"k":[1]}}],
      "stop_reason":"max_tokens"})"));
  ASSERT_TRUE(anthropic.has_value());
  EXPECT_EQ(anthropic->text, "ab{\"k\":[1]}");  // the JSON-answer tool is text, not a call
  EXPECT_TRUE(anthropic->tool_calls.empty());
  EXPECT_EQ(anthropic->stop, Stop::kLength);

  const auto responses = ReadAnswer(core::Dialect::kOpenAiResponses, json::parse(R"({
      "status":"incomplete","incomplete_details":{"reason":"content_filter"},
      "output":[{"type":"message","content":[{"type":"output_text","text":"hi"},
                                             {"type":"refusal","refusal":"nope"}]},
                {"type":"function_call","name":"g","arguments":"{}"}]})"));
  ASSERT_TRUE(responses.has_value());
  EXPECT_EQ(responses->text, "hi");
  EXPECT_EQ(responses->refusal, "nope");
  EXPECT_EQ(responses->stop, Stop::kContentFilter);
  EXPECT_EQ(responses->tool_calls.size(), 1u);

  EXPECT_FALSE(ReadAnswer(core::Dialect::kOpenAiChat, json::parse("[]")).has_value());
  EXPECT_FALSE(ReadAnswer(core::Dialect::kAnthropicMessages, json::parse("{}")).has_value());
}

}  // namespace
}  // namespace sy::verify
