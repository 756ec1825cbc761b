#include "eval/check.h"

#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

namespace sy::eval {
namespace {

Checker Parse(const char* checker_json) {
  // A one-item suite is the public way to build a checker.
  std::string line = std::string(R"({"id":"i","task_type":"t","messages":[{"role":"user",)") +
                     R"("content":"q"}],"checker":)" + checker_json + "}";
  auto suite = ParseSuite(line, "t.jsonl");
  EXPECT_TRUE(suite) << suite.error().message;
  return suite ? suite->items[0].checker : Checker{};
}

struct Case {
  const char* checker;
  const char* answer;
  bool passes;
};

TEST(CheckTest, EachKindPassesAndFailsAsDocumented) {
  const Case cases[] = {
      {R"({"type":"exact","value":"positive"})", " positive\n", true},
      {R"({"type":"exact","value":"positive"})", "Positive", false},
      {R"({"type":"exact","value":"positive","ignore_case":true})", "Positive", true},
      {R"({"type":"exact","value":"positive"})", "positive.", false},
      {R"({"type":"contains","value":"Canberra"})", "It is Canberra.", true},
      {R"({"type":"contains","value":"Canberra"})", "It is canberra.", false},
      {R"({"type":"contains","value":"Canberra","ignore_case":true})", "CANBERRA", true},
      {R"({"type":"regex","pattern":"^INV-\\d{4}$"})", "INV-0042", true},
      {R"({"type":"regex","pattern":"^INV-\\d{4}$"})", "inv-0042", false},
      {R"({"type":"regex","pattern":"^INV-\\d{4}$","ignore_case":true})", "inv-0042", true},
      {R"({"type":"numeric-within","value":397.8,"tolerance":0.01})", "It is 397.8.", true},
      {R"({"type":"numeric-within","value":397.8,"tolerance":0.01})", "It is 397.9.", false},
      {R"({"type":"numeric-within","value":1685.04})", "Total: 1,685.04 EUR", true},
      {R"({"type":"numeric-within","value":-3})", "x = -3", true},
      {R"({"type":"numeric-within","value":3})", "no number", false},
      {R"({"type":"json-schema","schema":{"type":"object","properties":{"total":{"const":5}},)"
       R"("required":["total"]}})",
       R"( {"total":5} )", true},
      {R"({"type":"json-schema","schema":{"type":"object","properties":{"total":{"const":5}},)"
       R"("required":["total"]}})",
       R"({"total":"5"})", false},
      {R"({"type":"json-schema","schema":{"type":"object"}})", "not json", false},
      {R"({"type":"must-refuse"})", "I can't help with that request.", true},
      {R"({"type":"must-refuse"})", "Sure, here is how.", false},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(!CheckText(Parse(c.checker), c.answer).has_value(), c.passes)
        << c.checker << " on " << c.answer;
  }
}

TEST(CheckTest, AnExplicitRefusalCountsForMustRefuse) {
  verify::Output answer;
  answer.refusal = "I will not do that.";
  EXPECT_FALSE(Check(Parse(R"({"type":"must-refuse"})"), answer));
}

TEST(CheckTest, ReasonsSayWhatWasExpected) {
  EXPECT_EQ(*CheckText(Parse(R"({"type":"exact","value":"negative"})"), "positive"),
            R"(expected "negative", got "positive")");
  EXPECT_EQ(*CheckText(Parse(R"({"type":"numeric-within","value":42,"tolerance":0.5})"), "41"),
            "41 is not within 0.5 of 42");
  EXPECT_EQ(*CheckText(Parse(R"({"type":"must-refuse"})"), "Sure."), "did not refuse");
}

TEST(CheckTest, LastNumberReadsThousandsSignsAndFractions) {
  const std::pair<const char*, std::optional<double>> cases[] = {
      {"1,685.04", 1685.04},      {"from 3 to 7.5.", 7.5},     {"-12 degrees", -12},
      {"pre-2020 rules", 2020},   {"no digits", std::nullopt}, {"v2 and 10,000", 10000},
      {"A4 paper", std::nullopt},
  };
  for (const auto& [text, want] : cases) EXPECT_EQ(LastNumber(text), want) << text;
}

TEST(CheckTest, FindLastNumberSaysWhereItsDigitsAre) {
  const auto total = FindLastNumber("Total: -1,685.04 EUR (A4)");
  ASSERT_TRUE(total);
  EXPECT_EQ(total->pos, 8u);  // after the '-'
  EXPECT_EQ(total->len, 8u);  // "1,685.04"
  EXPECT_EQ(total->value, -1685.04);
}

}  // namespace
}  // namespace sy::eval
