#include "eval/suite.h"

#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

#include "eval/check.h"

namespace sy::eval {
namespace {

constexpr const char* kItem =
    R"({"id":"pct","task_type":"math","messages":[{"role":"system","content":"Be brief."},)"
    R"({"role":"user","content":[{"type":"text","text":"What is 17%"},{"type":"text",)"
    R"("text":"of 2,340?"}]}],"checker":{"type":"numeric-within","value":397.8,"tolerance":0.01},)"
    R"("answer":"17% of 2,340 is 397.8."})";

TEST(SuiteTest, ParsesAnItemAndKeysItByItsLastUserText) {
  auto suite = ParseSuite(std::string("# comment\n\n") + kItem + "\n", "s.jsonl");
  ASSERT_TRUE(suite) << suite.error().message;
  ASSERT_EQ(suite->items.size(), 1u);
  const SuiteItem& item = suite->items[0];
  EXPECT_EQ(item.id, "pct");
  EXPECT_EQ(item.task_type, "math");
  EXPECT_FALSE(item.factual);
  EXPECT_EQ(ItemKey(item.messages), "What is 17%\nof 2,340?");
  EXPECT_EQ(item.checker.kind, CheckKind::kNumericWithin);
  // Derived wrong answer: the last number off by a tenth plus one, same decimals.
  EXPECT_EQ(WrongAnswer(item), "17% of 2,340 is 438.6.");
}

TEST(SuiteTest, FactualDefaultsToTheTaskType) {
  auto suite = ParseSuite(
      R"({"id":"a","task_type":"factual","messages":[{"role":"user","content":"Capital of France?"}],)"
      R"("checker":{"type":"contains","value":"Paris"},"answer":"Paris."})",
      "s");
  ASSERT_TRUE(suite);
  EXPECT_TRUE(suite->items[0].factual);
  EXPECT_EQ(WrongAnswer(suite->items[0]),
            "I am not certain, but I think the answer depends on details not given here.");
}

TEST(SuiteTest, ErrorsNameTheLineAndTheReason) {
  const std::string ok = kItem;
  const std::pair<std::string, std::string> cases[] = {
      {"not json", "s:1: not a JSON object"},
      {ok + "\n" + ok, "s:2: duplicate id \"pct\""},
      {R"({"task_type":"math"})", "s:1: \"id\" is required"},
      {R"({"id":"x","task_type":"t","messages":[]})",
       "s:1: \"messages\" must be a non-empty array"},
      {R"({"id":"x","task_type":"t","messages":[{"role":"system","content":"s"}]})",
       "s:1: \"messages\" has no user message with text"},
      {R"({"id":"x","task_type":"t","messages":[{"role":"user","content":"q"}],"checker":{"type":"fuzzy"}})",
       "s:1: checker: \"type\" must be exact, contains, regex, numeric-within, json-schema or "
       "must-refuse, not \"fuzzy\""},
      {R"({"id":"x","task_type":"t","messages":[{"role":"user","content":"q"}],)"
       R"("checker":{"type":"exact","value":"yes"},"answer":"no"})",
       "s:1: \"answer\" fails its own checker: expected \"yes\", got \"no\""},
      {R"({"id":"x","task_type":"t","messages":[{"role":"user","content":"q"}],)"
       R"("checker":{"type":"contains","value":"yes"},"answer":"yes","wrong":"yes indeed"})",
       "s:1: \"wrong\" passes the checker"},
      {R"({"id":"x","task_type":"t","messages":[{"role":"user","content":"q"}],)"
       R"("checker":{"type":"numeric-within","value":10,"tolerance":100},"answer":"10"})",
       "s:1: the derived wrong answer passes the checker: give \"wrong\""},
      {R"({"id":"x","task_type":"t","messages":[{"role":"user","content":"q"}],"cheker":{}})",
       "s:1: unknown key \"cheker\""},
      {R"({"id":"x","task_type":"t","messages":[{"role":"user","content":"q"}],)"
       R"("checker":{"type":"numeric-within","value":1,"tolerence":0.1}})",
       "s:1: checker: unknown key \"tolerence\""},
      {R"({"id":"x","task_type":"t","messages":[{"role":"user","content":"q"}],)"
       R"("checker":{"type":"exact","value":"a","ignore_case":"yes"}})",
       "s:1: checker: \"ignore_case\" must be true or false"},
      {"# only a comment\n", "s: no items"},
  };
  for (const auto& [text, want] : cases) {
    auto suite = ParseSuite(text, "s");
    ASSERT_FALSE(suite) << text;
    EXPECT_EQ(suite.error().message, want);
  }
}

TEST(SuiteTest, ALineTooLongIsRefusedBeforeItIsParsed) {
  auto suite = ParseSuite(std::string(kMaxLineBytes + 1, ' '), "s");
  ASSERT_FALSE(suite);
  EXPECT_EQ(suite.error().message, "s:1: longer than 262144 bytes");
}

// The demo suite loads, so every answer passes its checker and every wrong answer fails it.
TEST(SuiteTest, TheDemoSuiteIsConsistent) {
  auto suite = ParseSuite(kDemoSuiteJsonl, "demo.jsonl");
  ASSERT_TRUE(suite) << suite.error().message;
  for (const auto& item : suite->items) EXPECT_FALSE(item.answer.empty()) << item.id;
}

}  // namespace
}  // namespace sy::eval
