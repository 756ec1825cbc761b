#include "emulator/bad_output.h"

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "emulator/schema_gen.h"
#include "emulator/text_gen.h"

namespace sy::emulator {
namespace {

namespace json = boost::json;

constexpr std::string_view kTripSchema =
    R"({"type":"object","properties":{"city":{"type":"string"},"days":{"type":"integer"}},
        "required":["city","days"],"additionalProperties":false})";

bool Parses(std::string_view text) {
  boost::system::error_code ec;
  (void)json::parse(text, ec);
  return !ec;
}

TEST(BreakSchemaTest, Table) {
  struct Case {
    std::string_view schema;
    std::string_view valid;
    std::string_view broken;
  };
  const Case cases[] = {
      // The first required property is dropped.
      {kTripSchema, R"({"city":"Paris","days":3})", R"({"days":3})"},
      {R"({"type":"object","properties":{"a":{"type":"string"},"b":{"type":"string"}},
           "required":["b","a"]})",
       R"({"a":"x","b":"y"})", R"({"a":"x"})"},
      // No required property: the first property gets a type its schema does not allow.
      {R"({"type":"object","properties":{"count":{"type":"integer"}}})", R"({"count":3})",
       R"({"count":"unexpected"})"},
      {R"({"type":"object","properties":{"name":{"type":["string","null"]}}})", R"({"name":"Ann"})",
       R"({"name":42})"},
      {R"({"type":"object","properties":{"p":{"$ref":"#/$defs/n"}},"$defs":{"n":{"type":"string"}}})",
       R"({"p":"v"})", R"({"p":42})"},
      // A top-level $ref is followed.
      {R"({"$ref":"#/$defs/t","$defs":{"t":{"type":"object","properties":{"a":{"type":"string"}},
           "required":["a"]}}})",
       R"({"a":"x"})", R"({})"},
      // Untyped first property, or not an object: the root gets a wrong type.
      {R"({"type":"object","properties":{"x":{}}})", R"({"x":1})", R"("unexpected")"},
      {R"({"type":"array","items":{"type":"integer"}})", R"([1,2])", R"("unexpected")"},
      {R"({"type":"string"})", R"("Paris")", R"(42)"},
      // Nothing to break.
      {R"({})", R"({"k":1})", R"({"unexpected":true})"},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(BreakSchema(json::parse(c.schema), json::parse(c.valid)), json::parse(c.broken))
        << c.schema;
  }
}

GenerationRequest TextRequest() {
  GenerationRequest request;
  request.seed = 7;
  request.tool_mode = ToolMode::kNone;
  return request;
}

GenerationRequest SchemaRequest() {
  GenerationRequest request = TextRequest();
  request.format = OutputFormat::kJsonSchema;
  request.schema = json::parse(kTripSchema);
  return request;
}

GenerationRequest ToolRequest() {
  GenerationRequest request = TextRequest();
  request.tool_mode = ToolMode::kRequired;
  request.tools.push_back(
      ToolSpec{"lookup", json::parse(R"({"type":"object","properties":{"q":{"type":"string"}},
                                        "required":["q"]})")});
  return request;
}

GeneratedChoice Struck(BadOutput output, const GenerationRequest& request) {
  GeneratedChoice choice = Generate(request).front();
  ApplyBadOutput(output, request, choice);
  return choice;
}

int64_t Tokens(const GeneratedChoice& choice) {
  return static_cast<int64_t>(choice.text_pieces.size());
}

TEST(ApplyBadOutputTest, InvalidJsonWithoutSchemaIsACutObject) {
  GeneratedChoice choice = Struck(BadOutput::kInvalidJson, TextRequest());
  EXPECT_EQ(choice.Text(), kCutJsonText);
  EXPECT_FALSE(Parses(choice.Text()));
  EXPECT_EQ(choice.finish, Finish::kEndTurn);
  EXPECT_EQ(choice.output_tokens, 6);  // 24 bytes, a token per 4
}

TEST(ApplyBadOutputTest, InvalidJsonWithSchemaIsTheValidAnswerCutInHalf) {
  GenerationRequest request = SchemaRequest();
  GeneratedChoice choice = Struck(BadOutput::kInvalidJson, request);
  std::string valid = json::serialize(GenerateFromSchema(request.schema, choice.seed));
  ASSERT_TRUE(Parses(valid));
  EXPECT_FALSE(Parses(choice.Text()));
  EXPECT_EQ(valid.rfind(choice.Text(), 0), 0U) << choice.Text() << " vs " << valid;
  EXPECT_EQ(choice.output_tokens, static_cast<int64_t>(SplitIntoPieces(valid).size() / 2));
}

TEST(ApplyBadOutputTest, SchemaViolationDropsTheFirstRequiredProperty) {
  GeneratedChoice choice = Struck(BadOutput::kSchemaViolation, SchemaRequest());
  json::object answer = json::parse(choice.Text()).as_object();
  EXPECT_FALSE(answer.contains("city"));
  EXPECT_TRUE(answer.at("days").is_int64());
  EXPECT_EQ(choice.output_tokens, static_cast<int64_t>(SplitIntoPieces(choice.Text()).size()));

  GeneratedChoice plain = Struck(BadOutput::kSchemaViolation, TextRequest());
  EXPECT_EQ(plain.Text(), kUnexpectedJsonText);
  EXPECT_EQ(plain.output_tokens, 5);
}

TEST(ApplyBadOutputTest, EmptyRefusalUngrounded) {
  GenerationRequest request = TextRequest();
  request.reasoning = true;
  GeneratedChoice empty = Struck(BadOutput::kEmpty, request);
  EXPECT_EQ(empty.Text(), "");
  EXPECT_EQ(empty.finish, Finish::kEndTurn);
  EXPECT_EQ(empty.reasoning_tokens, 0);
  EXPECT_EQ(empty.output_tokens, 0);

  GeneratedChoice refusal = Struck(BadOutput::kRefusal, request);
  EXPECT_EQ(refusal.Text(), kRefusalText);
  EXPECT_EQ(refusal.finish, Finish::kRefusal);
  EXPECT_EQ(Tokens(refusal), 9);  // a token per word
  EXPECT_GT(refusal.reasoning_tokens, 0);
  EXPECT_EQ(refusal.output_tokens, refusal.reasoning_tokens + 9);

  GeneratedChoice ungrounded = Struck(BadOutput::kUngrounded, request);
  EXPECT_EQ(ungrounded.Text(),
            "According to Dr. Elena Marchetti of the Halvorsen Institute, revenue grew 37.4% to "
            "$812 million in 2019, with 14,250 new customers across 23 countries.");
  EXPECT_EQ(ungrounded.finish, Finish::kEndTurn);
  EXPECT_EQ(ungrounded.output_tokens, ungrounded.reasoning_tokens + 24);
}

TEST(ApplyBadOutputTest, TokenLimitAndStopSequencesStillCut) {
  GenerationRequest request = TextRequest();
  request.max_tokens = 5;
  GeneratedChoice cut = Struck(BadOutput::kUngrounded, request);
  EXPECT_EQ(cut.Text(), "According to Dr. Elena Marchetti");
  EXPECT_EQ(cut.finish, Finish::kLength);
  EXPECT_EQ(cut.output_tokens, 5);

  request = TextRequest();
  request.stop = {"help"};
  GeneratedChoice stopped = Struck(BadOutput::kRefusal, request);
  EXPECT_EQ(stopped.Text(), "I'm sorry, but I can't ");
  EXPECT_EQ(stopped.finish, Finish::kStopSequence);
}

TEST(ApplyBadOutputTest, ToolArgumentsCarryJsonFaults) {
  GeneratedChoice invalid = Struck(BadOutput::kInvalidJson, ToolRequest());
  ASSERT_EQ(invalid.tool_calls.size(), 1U);
  EXPECT_EQ(invalid.finish, Finish::kToolCalls);
  EXPECT_EQ(invalid.tool_calls[0].name, "lookup");
  EXPECT_FALSE(Parses(invalid.tool_calls[0].arguments));
  EXPECT_EQ(invalid.output_tokens,
            static_cast<int64_t>(invalid.tool_calls[0].argument_pieces.size()));
  EXPECT_EQ(JoinPieces(invalid.tool_calls[0].argument_pieces), invalid.tool_calls[0].arguments);

  GeneratedChoice violation = Struck(BadOutput::kSchemaViolation, ToolRequest());
  ASSERT_EQ(violation.tool_calls.size(), 1U);
  EXPECT_EQ(json::parse(violation.tool_calls[0].arguments), json::object{});  // "q" dropped
  EXPECT_EQ(violation.finish, Finish::kToolCalls);
  EXPECT_EQ(violation.output_tokens, 1);
}

TEST(ApplyBadOutputTest, OtherOutputsReplaceToolCallsWithText) {
  GeneratedChoice refusal = Struck(BadOutput::kRefusal, ToolRequest());
  EXPECT_TRUE(refusal.tool_calls.empty());
  EXPECT_EQ(refusal.Text(), kRefusalText);
  EXPECT_EQ(refusal.finish, Finish::kRefusal);
  GeneratedChoice empty = Struck(BadOutput::kEmpty, ToolRequest());
  EXPECT_TRUE(empty.tool_calls.empty());
  EXPECT_EQ(empty.finish, Finish::kEndTurn);
  EXPECT_EQ(empty.output_tokens, 0);
}

TEST(ApplyBadOutputTest, ToolCallsToTextKeepsTokens) {
  GeneratedChoice choice = Struck(BadOutput::kInvalidJson, ToolRequest());
  std::string arguments = choice.tool_calls[0].arguments;
  int64_t tokens = choice.output_tokens;
  ToolCallsToText(choice);
  EXPECT_TRUE(choice.tool_calls.empty());
  EXPECT_EQ(choice.Text(), arguments);
  EXPECT_EQ(choice.finish, Finish::kEndTurn);
  EXPECT_EQ(Tokens(choice), tokens);
}

}  // namespace
}  // namespace sy::emulator
