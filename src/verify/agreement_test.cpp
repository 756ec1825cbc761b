#include "verify/agreement.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace sy::verify {
namespace {

Output Answer(std::string text, std::vector<ToolCall> calls = {}) {
  Output out;
  out.text = std::move(text);
  out.tool_calls = std::move(calls);
  return out;
}

struct Case {
  const char* name;
  Output live;
  Output shadow;
  std::string_view expected;
};

TEST(AgreementTest, Table) {
  Output truncated = Answer("same");
  truncated.truncated = true;
  Output refused = Answer("");
  refused.refusal = "I cannot help with that.";
  const Case cases[] = {
      {"same text", Answer("Paris"), Answer("Paris"), "exact"},
      {"surrounding whitespace", Answer("Paris\n"), Answer("  Paris"), "exact"},
      {"inner whitespace differs", Answer("New York"), Answer("New  York"), "differs"},
      {"case differs", Answer("paris"), Answer("Paris"), "differs"},
      {"json reordered", Answer(R"({"a":1,"b":[1,2]})"), Answer(R"({ "b": [1, 2], "a": 1 })"),
       "json"},
      {"json different value", Answer(R"({"a":1})"), Answer(R"({"a":2})"), "differs"},
      {"not json", Answer("yes."), Answer("yes!"), "differs"},
      {"same tool call", Answer("", {{"f", R"({"x":1})"}}), Answer("", {{"f", R"({"x":1})"}}),
       "exact"},
      {"tool arguments reordered", Answer("", {{"f", R"({"x":1,"y":2})"}}),
       Answer("", {{"f", R"({"y":2,"x":1})"}}), "json"},
      {"other tool", Answer("", {{"f", "{}"}}), Answer("", {{"g", "{}"}}), "differs"},
      {"a call against text", Answer("", {{"f", "{}"}}), Answer("{}"), "differs"},
      {"truncated never agrees", truncated, Answer("same"), "differs"},
      {"refusal against an answer", refused, Answer("Sure."), "differs"},
      {"both refused alike", refused, refused, "exact"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(AgreementName(Compare(c.live, c.shadow)), c.expected) << c.name;
  }
}

}  // namespace
}  // namespace sy::verify
