#include "emulator/quality.h"

#include <cmath>
#include <cstdio>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include <boost/json.hpp>
#include <gtest/gtest.h>
#include <unistd.h>

#include "emulator/profiles.h"
#include "emulator/state.h"
#include "emulator/text_gen.h"
#include "eval/suite.h"

namespace sy::emulator {
namespace {

namespace json = boost::json;

// ---- The draw ----

TEST(AnswersCorrectlyTest, IsDeterministic) {
  struct Case {
    double p;
    uint64_t seed;
    const char* item;
    const char* model;
    uint64_t n;
  };
  const Case kCases[] = {{0.5, 0, "capital", "gpt-5.5", 0},
                         {0.5, 7, "capital", "gpt-5.5", 3},
                         {0.742, 42, "sum", "claude-opus-4-7", 11}};
  for (const Case& c : kCases) {
    bool first = AnswersCorrectly(c.p, c.seed, c.item, c.model, c.n);
    for (int i = 0; i < 3; ++i) {
      EXPECT_EQ(AnswersCorrectly(c.p, c.seed, c.item, c.model, c.n), first) << c.item;
    }
  }
}

TEST(AnswersCorrectlyTest, FollowsTheDocumentedFormula) {
  for (uint64_t n = 0; n < 50; ++n) {
    double u = Rng(Mix(Mix(Mix(Fnv1a("item"), Fnv1a("model")), 9), n)).Uniform();
    EXPECT_EQ(AnswersCorrectly(u, 9, "item", "model", n), false);  // u < u is false
    EXPECT_EQ(AnswersCorrectly(std::nextafter(u, 2.0), 9, "item", "model", n), true);
  }
}

TEST(AnswersCorrectlyTest, RateOverDistinctItemsIsP) {
  constexpr int kItems = 10'000;
  // Binomial standard deviation at p = 0.5 is 0.005; 0.02 is four of them.
  constexpr double kTolerance = 0.02;
  for (double p : {0.05, 0.36, 0.5, 0.742, 0.95}) {
    int correct = 0;
    for (int i = 0; i < kItems; ++i) {
      correct += AnswersCorrectly(p, 1, "item-" + std::to_string(i), "m", 0) ? 1 : 0;
    }
    EXPECT_NEAR(static_cast<double>(correct) / kItems, p, kTolerance) << "p = " << p;
  }
}

TEST(AnswersCorrectlyTest, RepeatedAttemptsAreIndependentDraws) {
  constexpr int kAttempts = 10'000;
  int correct = 0;
  for (uint64_t n = 0; n < kAttempts; ++n) correct += AnswersCorrectly(0.7, 3, "x", "m", n);
  EXPECT_NEAR(static_cast<double>(correct) / kAttempts, 0.7, 0.02);
}

TEST(AnswersCorrectlyTest, ZeroNeverOneAlways) {
  for (uint64_t n = 0; n < 2000; ++n) {
    std::string item = "item-" + std::to_string(n % 37);
    EXPECT_FALSE(AnswersCorrectly(0, n, item, "m", n));
    EXPECT_TRUE(AnswersCorrectly(1, n, item, "m", n));
  }
}

TEST(AnswersCorrectlyTest, SeedModelAndItemChangeTheDraws) {
  auto pattern = [](uint64_t seed, std::string_view item, std::string_view model) {
    std::string bits;
    for (uint64_t n = 0; n < 64; ++n) bits += AnswersCorrectly(0.5, seed, item, model, n) ? 1 : 0;
    return bits;
  };
  std::string base = pattern(1, "a", "m");
  EXPECT_NE(pattern(2, "a", "m"), base);
  EXPECT_NE(pattern(1, "b", "m"), base);
  EXPECT_NE(pattern(1, "a", "n"), base);
}

// ---- The demo table ----

TEST(BuiltinQualityTest, Table) {
  struct Case {
    const char* model;
    const char* task;
    double p;
  };
  const Case kCases[] = {
      {"gpt-5.5", "factual", 0.742},
      {"gpt-5.5", "math", 0.96},
      {"gpt-5.5", "chat", 0.95},
      {"gpt-5.5-pro", "factual", 0.80},
      {"claude-opus-4.7", "factual", 0.892},
      {"claude-opus-4.7", "code", 0.96},
      {"claude-haiku-4.5", "reasoning", 0.72},
      {"deepseek-v4-flash", "extraction", 0.93},
      {"deepseek-v4-flash", "factual", 0.712},
      {"deepseek-v4-flash", "creative", 0.86},
      {"deepseek-v4-pro", "factual", 0.718},
      {"kimi-k2.6", "agentic", 0.90},
      {"llama-4-maverick", "math", 0.62},
      {"mistral-small-4", "code", 0.70},
  };
  for (const Case& c : kCases) {
    auto quality = BuiltinQuality(c.model);
    ASSERT_TRUE(quality.has_value()) << c.model;
    EXPECT_DOUBLE_EQ(quality->For(c.task), c.p) << c.model << " " << c.task;
  }
  for (const char* model :
       {"gpt-5.5", "gpt-5.5-pro", "claude-opus-4.7", "claude-opus-4.8", "claude-haiku-4.5",
        "gemini-3.1-pro", "grok-4", "grok-4.1-fast", "mistral-large-3", "mistral-small-4",
        "deepseek-v4-pro", "deepseek-v4-flash", "kimi-k2.6", "llama-4-maverick"}) {
    EXPECT_TRUE(BuiltinQuality(model).has_value()) << model;
  }
  EXPECT_FALSE(BuiltinQuality("my-model").has_value());
  EXPECT_FALSE(BuiltinQuality("instant").has_value());
}

TEST(BuiltinQualityTest, ProfilesCarryItUnderEitherSpelling) {
  struct Case {
    const char* model;  // as a request spells it
    const char* task;
    double p;
  };
  const Case kCases[] = {
      {"claude-opus-4.7", "factual", 0.892},
      {"claude-opus-4-7", "factual", 0.892},        // Anthropic's spelling
      {"claude-haiku-4-5-20251001", "math", 0.75},  // dated
      {"kimi-k2.6", "code", 0.91},
      {"unknown-model", "math", kUnknownModelQuality},  // the default profile
      {"instant", "factual", kUnknownModelQuality},
  };
  ProfileTable table;
  for (const Case& c : kCases) {
    EXPECT_DOUBLE_EQ(table.Get(c.model).quality.For(c.task), c.p) << c.model;
  }
  EXPECT_EQ(table.Get("claude-opus-4-7").ttft_ms, table.Get("claude-opus-4.7").ttft_ms);
}

TEST(CanonicalModelNameTest, Table) {
  const std::pair<const char*, const char*> kCases[] = {
      {"claude-opus-4-7", "claude-opus-4.7"},
      {"claude-haiku-4-5-20251001", "claude-haiku-4.5"},
      {"gpt-5.5", "gpt-5.5"},
      {"llama-4-maverick", "llama-4-maverick"},
      {"deepseek-v4-flash", "deepseek-v4-flash"},
      {"grok-4-1-fast", "grok-4.1-fast"},
      {"-1-", "-1-"},
      {"", ""},
  };
  for (const auto& [in, out] : kCases) EXPECT_EQ(CanonicalModelName(in), out) << in;
}

// ---- Configuration ----

TEST(QualityFromJsonTest, ReplacesThePerTaskMap) {
  Quality base = *BuiltinQuality("gpt-5.5");
  auto q = QualityFromJson(json::parse(R"({"math": 0.5})"), base);
  ASSERT_TRUE(q.has_value()) << q.error().message;
  EXPECT_DOUBLE_EQ(q->For("math"), 0.5);
  EXPECT_DOUBLE_EQ(q->For("factual"), 0.95);  // the old override is gone; default kept
  auto all = QualityFromJson(json::parse(R"({"default": 0, "code": 1})"), base);
  ASSERT_TRUE(all.has_value());
  EXPECT_DOUBLE_EQ(all->For("math"), 0);
  EXPECT_DOUBLE_EQ(all->For("code"), 1);
  EXPECT_EQ(json::value(QualityToJson(*all)), json::parse(R"({"default": 0.0, "code": 1.0})"));
}

TEST(QualityFromJsonTest, Errors) {
  struct Case {
    const char* json;
    const char* message;  // a prefix of the error message
  };
  const Case kCases[] = {
      {R"({"math": 1.5})", "math: must be a number in [0, 1]"},
      {R"({"math": -0.01})", "math: must be a number in [0, 1]"},
      {R"({"default": "high"})", "default: must be a number in [0, 1]"},
      {R"({"code": null})", "code: must be a number in [0, 1]"},
      {R"({"": 0.5})", ": task type must not be empty"},
      {R"([0.5])", "must be an object"},
  };
  for (const Case& c : kCases) {
    auto q = QualityFromJson(json::parse(c.json), Quality{});
    ASSERT_FALSE(q.has_value()) << c.json;
    EXPECT_EQ(q.error().code, core::Errc::kInvalidRequest);
    EXPECT_EQ(q.error().message.rfind(c.message, 0), 0U) << q.error().message;
  }
}

TEST(ProfileFromJsonTest, QualityFieldAndItsErrors) {
  auto ok = ProfileFromJson(
      json::parse(R"({"ttft_ms": 5, "quality": {"default": 0.25}})").as_object(), Profile{});
  ASSERT_TRUE(ok.has_value()) << ok.error().message;
  EXPECT_DOUBLE_EQ(ok->quality.For("math"), 0.25);
  EXPECT_EQ(json::value(ProfileToJson(*ok)).at("quality"), json::parse(R"({"default": 0.25})"));

  const std::pair<const char*, const char*> kErrors[] = {
      {R"({"quality": {"math": 2}})", "quality.math: must be a number in [0, 1]"},
      {R"({"quality": 0.5})", "quality: must be an object"},
  };
  for (const auto& [body, message] : kErrors) {
    auto bad = ProfileFromJson(json::parse(body).as_object(), Profile{});
    ASSERT_FALSE(bad.has_value()) << body;
    EXPECT_EQ(bad.error().message.rfind(message, 0), 0U) << bad.error().message;
  }
}

class ProfileFileTest : public ::testing::Test {
 protected:
  core::Status Load(const std::string& yaml) {
    // This process's own file: ctest runs this fixture's tests in parallel processes.
    const std::string path =
        ::testing::TempDir() + "quality_profiles_" + std::to_string(::getpid()) + ".yaml";
    std::ofstream(path) << yaml;
    core::Status loaded = table_.LoadFile(path);
    std::remove(path.c_str());
    return loaded;
  }
  ProfileTable table_;
};

TEST_F(ProfileFileTest, QualityPerModelAndInDefault) {
  auto loaded = Load(
      "default: {quality: {default: 0.6}}\n"
      "profiles:\n"
      "  my-model: {ttft_ms: 10, quality: {default: 0.9, math: 0.7}}\n"
      "  gpt-5.5: {quality: {default: 0.5}}\n");
  ASSERT_TRUE(loaded.has_value()) << loaded.error().message;
  EXPECT_DOUBLE_EQ(table_.Get("my-model").quality.For("math"), 0.7);
  EXPECT_DOUBLE_EQ(table_.Get("my-model").quality.For("code"), 0.9);
  EXPECT_EQ(table_.Get("my-model").ttft_ms, 10);
  EXPECT_DOUBLE_EQ(table_.Get("gpt-5.5").quality.For("factual"), 0.5);
  EXPECT_DOUBLE_EQ(table_.Get("someone-else").quality.For("chat"), 0.6);
  EXPECT_DOUBLE_EQ(table_.Get("claude-opus-4.7").quality.For("factual"), 0.892);  // untouched
}

TEST_F(ProfileFileTest, QualityErrorsNameTheKey) {
  const std::pair<const char*, const char*> kCases[] = {
      {"profiles: {m: {quality: {math: 1.2}}}\n", "profiles.m.quality.math: must be"},
      {"profiles: {m: {quality: {math: lots}}}\n", "profiles.m.quality.math: must be"},
      {"profiles: {m: {quality: {math: [1]}}}\n", "profiles.m.quality.math: must be"},
      {"default: {quality: {default: -1}}\n", "default.quality.default: must be"},
      {"profiles: {m: {quality: 0.5}}\n", "profiles.m.quality: must be a mapping"},
  };
  for (const auto& [yaml, message] : kCases) {
    auto loaded = Load(yaml);
    ASSERT_FALSE(loaded.has_value()) << yaml;
    EXPECT_EQ(loaded.error().code, core::Errc::kInvalidRequest);
    EXPECT_NE(loaded.error().message.find(message), std::string::npos) << loaded.error().message;
    EXPECT_DOUBLE_EQ(table_.Get("m").quality.For("math"), kUnknownModelQuality);  // unchanged
  }
}

// ---- The suite index and the counts ----

constexpr std::string_view kSuite = R"(
{"id": "capital", "task_type": "factual", "messages": [{"role": "user", "content": "What is the capital of France?"}], "checker": {"type": "contains", "value": "Paris"}, "answer": "The capital of France is Paris.", "wrong": "The capital of France is Lyon."}
{"id": "sum", "task_type": "math", "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": [{"type": "text", "text": "What is 17 + 25?"}, {"type": "text", "text": "Reply with the sum."}]}], "checker": {"type": "numeric-within", "value": 42, "tolerance": 0.01}, "answer": "17 + 25 = 42"}
)";

eval::Suite TestSuite() {
  auto suite = eval::ParseSuite(kSuite, "test");
  EXPECT_TRUE(suite.has_value()) << suite.error().message;
  return suite.has_value() ? *suite : eval::Suite{};
}

TEST(SuiteIndexTest, FindsItemsByTheirPromptText) {
  eval::Suite suite = TestSuite();
  SuiteIndex index(suite);
  EXPECT_EQ(index.size(), 2U);
  const SuiteAnswer* capital = index.Find("What is the capital of France?");
  ASSERT_NE(capital, nullptr);
  EXPECT_EQ(capital->id, "capital");
  EXPECT_EQ(capital->task_type, "factual");
  EXPECT_EQ(capital->answer, "The capital of France is Paris.");
  EXPECT_EQ(capital->wrong, "The capital of France is Lyon.");
  const SuiteAnswer* sum = index.Find("What is 17 + 25?\nReply with the sum.");
  ASSERT_NE(sum, nullptr);
  EXPECT_EQ(sum->wrong, eval::WrongAnswer(suite.items[1]));  // derived
  EXPECT_NE(sum->wrong, sum->answer);
  EXPECT_EQ(index.Find("What is the capital of France"), nullptr);
  EXPECT_EQ(index.Find(""), nullptr);
  EXPECT_EQ(SuiteIndex().Find("What is the capital of France?"), nullptr);
}

TEST(SuiteIndexTest, TheDemoSuiteLoads) {
  auto demo = eval::ParseSuite(eval::kDemoSuiteJsonl, "demo");
  ASSERT_TRUE(demo.has_value()) << demo.error().message;
  SuiteIndex index(*demo);
  EXPECT_GT(index.size(), 0U);
  for (const auto& item : demo->items) {
    const SuiteAnswer* found = index.Find(eval::ItemKey(item.messages));
    ASSERT_NE(found, nullptr) << item.id;
  }
}

TEST(StateSuiteAnswersTest, CountsDrawConsecutivelyAndReset) {
  ProfileTable profiles;
  Profile coin;
  coin.quality.default_p = 0.5;
  profiles.Put("coin", coin);
  constexpr uint64_t kSeed = 99;
  State state(profiles, SuiteIndex(TestSuite()), kSeed);
  const std::string key = "What is the capital of France?";
  auto expected = [&](uint64_t n) {
    return AnswersCorrectly(0.5, kSeed, "capital", "coin", n) ? "The capital of France is Paris."
                                                              : "The capital of France is Lyon.";
  };
  std::vector<std::string> first = state.SuiteAnswers(key, "coin", 3);
  std::vector<std::string> second = state.SuiteAnswers(key, "coin", 2);
  ASSERT_EQ(first.size(), 3U);
  ASSERT_EQ(second.size(), 2U);
  for (uint64_t n = 0; n < 3; ++n) EXPECT_EQ(first[n], expected(n));
  for (uint64_t n = 0; n < 2; ++n) EXPECT_EQ(second[n], expected(3 + n));
  EXPECT_EQ(state.EvalJson().at("answered"), 5);

  state.ClearAnswerCounts();
  EXPECT_EQ(state.SuiteAnswers(key, "coin", 3), first);
  EXPECT_TRUE(state.SuiteAnswers("not a suite prompt", "coin", 1).empty());
  EXPECT_TRUE(state.SuiteAnswers(key, "coin", 0).empty());
}

}  // namespace
}  // namespace sy::emulator
