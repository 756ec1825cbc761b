#include "router/data.h"

#include <string>

#include <gtest/gtest.h>

namespace sy::router {
namespace {

constexpr const char* kMmlu =
    R"({"id": "m/1", "source": "routellm-mmlu", "prompt": "Q?", "outcomes": {"big": 1, "small": 0},)"
    R"( "meta": {"score_type": "correct_0_1", "subject": "anatomy", "contaminated": true}})";
constexpr const char* kBench =
    R"({"id": "b/81", "source": "routellm-mtbench", "prompt": "Write.", "outcomes": {"big": 10.0,)"
    R"( "small": 5.5}, "meta": {"score_type": "gpt4_judge_1to10_mean_of_2_turns", "category": "writing"}})";

TEST(RouterDataTest, ReadsRecordsAndNormalisesOutcomes) {
  auto r = ParseRoutingData(std::string(kMmlu) + "\n\n" + kBench + "\n", "big", "small");
  ASSERT_TRUE(r.has_value()) << r.error().message;
  ASSERT_EQ(r->size(), 2u);
  const LabeledPrompt& m = (*r)[0];
  EXPECT_EQ(m.id, "m/1");
  EXPECT_EQ(m.source, "routellm-mmlu");
  EXPECT_EQ(m.topic, "anatomy");
  EXPECT_EQ(m.prompt, "Q?");
  EXPECT_EQ(m.strong, 1);
  EXPECT_EQ(m.weak_normalized, 0);
  EXPECT_TRUE(m.contaminated);
  const LabeledPrompt& b = (*r)[1];
  EXPECT_EQ(b.topic, "writing");
  EXPECT_EQ(b.strong, 10.0);
  EXPECT_EQ(b.strong_normalized, 1.0);
  EXPECT_EQ(b.weak_normalized, 0.5);
  EXPECT_FALSE(b.contaminated);
}

TEST(RouterDataTest, NamesTheLineAndTheProblem) {
  const struct {
    std::string text;
    std::string message;
  } cases[] = {
      {"{not json", "line 1: not JSON"},
      {"[1]", "line 1: not a JSON object"},
      {R"({"source": "s", "prompt": "p", "outcomes": {}})", "line 1: no string \"id\""},
      {R"({"id": "i", "source": "s", "prompt": "p"})", "line 1: no object \"outcomes\""},
      {std::string(kMmlu) + "\n" +
           R"({"id": "i", "source": "s", "prompt": "p", "outcomes": {"big": 1}})",
       "line 2: outcomes has no number for \"small\""},
      {R"({"id": "i", "source": "s", "prompt": "p", "outcomes": {"big": 1, "small": 2}})",
       "line 1: an outcome of 2 outside [0, 1]"},
      // Regression (audit 2): 1e308 was printed with all of its 309 digits.
      {R"({"id": "i", "source": "s", "prompt": "p", "outcomes": {"big": 1, "small": 1e308}})",
       "line 1: an outcome of 1e+308 outside [0, 1]"},
      {R"({"id": "i", "source": "s", "prompt": "p", "outcomes": {"big": 1, "small": 1.0000001}})",
       "line 1: an outcome of 1.0000001 outside [0, 1]"},
      {R"({"id": "i", "source": "s", "prompt": "p", "outcomes": {"big": 1, "small": 0}, "meta": {"score_type": "elo"}})",
       "line 1: unknown meta.score_type \"elo\""},
  };
  for (const auto& c : cases) {
    auto r = ParseRoutingData(c.text, "big", "small");
    ASSERT_FALSE(r.has_value()) << c.text;
    EXPECT_EQ(r.error().message.substr(0, c.message.size()), c.message) << r.error().message;
  }
}

}  // namespace
}  // namespace sy::router
