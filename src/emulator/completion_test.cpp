#include "emulator/completion.h"

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "emulator/text_gen.h"

namespace sy::emulator {
namespace {

namespace json = boost::json;

std::vector<std::string> Pieces() { return {"The", " quick", " brown", " fox", " jumps", "."}; }

TEST(TruncateTest, NaturalEnd) {
  Truncation t = Truncate(Pieces(), {}, std::nullopt);
  EXPECT_EQ(t.finish, Finish::kEndTurn);
  EXPECT_EQ(t.pieces.size(), 6U);
}

TEST(TruncateTest, MaxTokensCutsAndSaysLength) {
  Truncation t = Truncate(Pieces(), {}, 3);
  EXPECT_EQ(t.finish, Finish::kLength);
  EXPECT_EQ(t.pieces, (std::vector<std::string>{"The", " quick", " brown"}));
  EXPECT_EQ(Truncate(Pieces(), {}, 6).finish, Finish::kEndTurn);
}

TEST(TruncateTest, StopSequenceCutsBeforeTheFirstMatch) {
  Truncation t = Truncate(Pieces(), {"zzz", "own f", "jumps"}, std::nullopt);
  EXPECT_EQ(t.finish, Finish::kStopSequence);
  EXPECT_EQ(t.stop_sequence, "own f");
  EXPECT_EQ(JoinPieces(t.pieces), "The quick br");
  EXPECT_EQ(t.pieces.size(), 3U);  // the cut piece still counts as generated
}

TEST(TruncateTest, StopSequenceBeyondTheLimitLosesToLength) {
  Truncation t = Truncate(Pieces(), {"jumps"}, 3);
  EXPECT_EQ(t.finish, Finish::kLength);
  Truncation within = Truncate(Pieces(), {"quick"}, 3);
  EXPECT_EQ(within.finish, Finish::kStopSequence);
  EXPECT_EQ(within.pieces, (std::vector<std::string>{"The", " "}));
}

TEST(GroupPiecesTest, GroupsOneToThreeAndKeepsEverything) {
  std::vector<std::string> pieces(17, "ab");
  auto groups = GroupPieces(pieces, 3);
  int64_t total = 0;
  for (const auto& [text, tokens] : groups) {
    EXPECT_GE(tokens, 1);
    EXPECT_LE(tokens, 3);
    EXPECT_EQ(text.size(), static_cast<size_t>(tokens) * 2);
    total += tokens;
  }
  EXPECT_EQ(total, 17);
}

GenerationRequest Basic() {
  GenerationRequest request;
  request.seed = 1234;
  return request;
}

TEST(GenerateTest, SameRequestSameAnswer) {
  auto a = Generate(Basic());
  auto b = Generate(Basic());
  ASSERT_EQ(a.size(), 1U);
  EXPECT_EQ(a[0].Text(), b[0].Text());
  EXPECT_EQ(a[0].output_tokens, static_cast<int64_t>(a[0].text_pieces.size()));
  EXPECT_GE(a[0].output_tokens, 20);
  EXPECT_LE(a[0].output_tokens, 60);
  GenerationRequest other = Basic();
  other.seed = 99;
  EXPECT_NE(Generate(other)[0].Text(), a[0].Text());
}

TEST(GenerateTest, NChoicesDiffer) {
  GenerationRequest request = Basic();
  request.n = 3;
  auto choices = Generate(request);
  ASSERT_EQ(choices.size(), 3U);
  EXPECT_NE(choices[0].Text(), choices[1].Text());
}

TEST(GenerateTest, ReasoningCountsTowardOutputAndLimit) {
  GenerationRequest request = Basic();
  request.reasoning = true;
  auto choice = Generate(request)[0];
  EXPECT_GE(choice.reasoning_tokens, 8);
  EXPECT_EQ(choice.output_tokens,
            choice.reasoning_tokens + static_cast<int64_t>(choice.text_pieces.size()));
  request.max_tokens = 10;
  choice = Generate(request)[0];
  EXPECT_LE(choice.reasoning_tokens, 5);
  EXPECT_EQ(choice.output_tokens, 10);
  EXPECT_EQ(choice.finish, Finish::kLength);
}

TEST(GenerateTest, ToolCallsFollowTheMode) {
  GenerationRequest request = Basic();
  json::value schema = json::parse(
      R"({"type":"object","properties":{"city":{"type":"string"}},"required":["city"]})");
  request.tools = {ToolSpec{"get_weather", schema}, ToolSpec{"get_time", schema}};
  request.tool_mode = ToolMode::kAuto;
  auto choice = Generate(request)[0];
  ASSERT_EQ(choice.tool_calls.size(), 1U);
  EXPECT_EQ(choice.tool_calls[0].name, "get_weather");
  EXPECT_EQ(choice.finish, Finish::kToolCalls);
  EXPECT_TRUE(json::parse(choice.tool_calls[0].arguments).as_object().contains("city"));
  EXPECT_TRUE(choice.text_pieces.empty());

  request.tool_mode = ToolMode::kRequired;
  EXPECT_EQ(Generate(request)[0].tool_calls.size(), 2U);
  request.parallel_tool_calls = false;
  EXPECT_EQ(Generate(request)[0].tool_calls.size(), 1U);

  request.tool_mode = ToolMode::kNamed;
  request.named_tool = "get_time";
  EXPECT_EQ(Generate(request)[0].tool_calls[0].name, "get_time");

  request.tool_mode = ToolMode::kNone;
  EXPECT_TRUE(Generate(request)[0].tool_calls.empty());

  request.tool_mode = ToolMode::kAuto;
  request.tool_result = "22 degrees and sunny";
  choice = Generate(request)[0];
  EXPECT_TRUE(choice.tool_calls.empty());
  EXPECT_NE(choice.Text().find("22 degrees and sunny"), std::string::npos);
  EXPECT_EQ(choice.finish, Finish::kEndTurn);
}

TEST(GenerateTest, TextBeforeToolIsCounted) {
  GenerationRequest request = Basic();
  request.tools = {ToolSpec{"lookup", json::object{{"type", "object"}}}};
  request.text_before_tool = true;
  auto choice = Generate(request)[0];
  EXPECT_FALSE(choice.text_pieces.empty());
  ASSERT_EQ(choice.tool_calls.size(), 1U);
  EXPECT_EQ(choice.tool_calls[0].arguments, "{}");
  EXPECT_EQ(choice.output_tokens, static_cast<int64_t>(choice.text_pieces.size()) + 1);
}

TEST(GenerateTest, JsonFormats) {
  GenerationRequest request = Basic();
  request.format = OutputFormat::kJsonObject;
  EXPECT_TRUE(json::parse(Generate(request)[0].Text()).is_object());
  request.format = OutputFormat::kJsonSchema;
  request.schema = json::parse(R"({"type":"object","properties":{"n":{"type":"integer"}},
                                    "required":["n"],"additionalProperties":false})");
  json::value v = json::parse(Generate(request)[0].Text());
  EXPECT_TRUE(v.as_object().at("n").is_int64());
}

// ---- Fixed answers (task-suite items, quality.h) ----

TEST(GenerateFixedTest, TextAnswerIsOneTokenPerWord) {
  GenerationRequest request = Basic();
  request.answers = {"The capital of France is Paris."};
  auto choice = Generate(request)[0];
  EXPECT_EQ(choice.Text(), "The capital of France is Paris.");
  EXPECT_EQ(choice.output_tokens, 6);
  EXPECT_EQ(choice.finish, Finish::kEndTurn);
}

TEST(GenerateFixedTest, JsonAnswerIsFourBytePieces) {
  GenerationRequest request = Basic();
  request.format = OutputFormat::kJsonSchema;
  request.schema = json::parse(R"({"type":"object"})");
  request.answers = {R"({"label":"positive"})"};  // 20 bytes
  auto choice = Generate(request)[0];
  EXPECT_EQ(choice.Text(), R"({"label":"positive"})");
  EXPECT_EQ(choice.output_tokens, 5);
}

TEST(GenerateFixedTest, ReasoningLimitsAndStopStillApply) {
  GenerationRequest request = Basic();
  request.reasoning = true;
  request.answers = {"one two three four five six"};
  auto full = Generate(request)[0];
  EXPECT_EQ(full.Text(), "one two three four five six");
  EXPECT_GT(full.reasoning_tokens, 0);
  EXPECT_EQ(full.output_tokens, full.reasoning_tokens + 6);

  request.max_tokens = 6;  // reasoning takes at most half: 3 left for the answer
  auto cut = Generate(request)[0];
  EXPECT_EQ(cut.reasoning_tokens, 3);
  EXPECT_EQ(cut.Text(), "one two three");
  EXPECT_EQ(cut.finish, Finish::kLength);

  request.max_tokens.reset();
  request.stop = {" four"};
  auto stopped = Generate(request)[0];
  EXPECT_EQ(stopped.Text(), "one two three");
  EXPECT_EQ(stopped.finish, Finish::kStopSequence);
}

TEST(GenerateFixedTest, EachChoiceSaysItsOwnAnswerAndExtraChoicesAreGenerated) {
  GenerationRequest request = Basic();
  request.n = 3;
  request.answers = {"right", "wrong"};
  auto choices = Generate(request);
  ASSERT_EQ(choices.size(), 3U);
  EXPECT_EQ(choices[0].Text(), "right");
  EXPECT_EQ(choices[1].Text(), "wrong");
  EXPECT_GT(choices[2].text_pieces.size(), 1U);  // generated prose
}

TEST(GenerateFixedTest, ToolsDecideWhenAFixedAnswerApplies) {
  struct Case {
    const char* name;
    ToolMode mode;
    bool tool_result;
    bool fixed;
  };
  const Case kCases[] = {
      {"auto: answer, no call", ToolMode::kAuto, false, true},
      {"none", ToolMode::kNone, false, true},
      {"required: the call", ToolMode::kRequired, false, false},
      {"named: the call", ToolMode::kNamed, false, false},
      {"after a tool result", ToolMode::kAuto, true, false},
  };
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.name);
    GenerationRequest request = Basic();
    request.tools = {ToolSpec{"lookup", json::parse(R"({"type":"object"})")}};
    request.tool_mode = c.mode;
    request.named_tool = "lookup";
    if (c.tool_result) request.tool_result = "42";
    request.answers = {"The answer."};
    EXPECT_EQ(FixedAnswerAllowed(request), c.fixed);
    auto choice = Generate(request)[0];
    EXPECT_EQ(choice.Text() == "The answer." && choice.tool_calls.empty(), c.fixed);
  }
}

}  // namespace
}  // namespace sy::emulator
