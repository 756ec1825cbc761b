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

}  // namespace
}  // namespace sy::emulator
