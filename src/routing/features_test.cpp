#include "routing/features.h"

#include <gtest/gtest.h>

namespace sy::routing {
namespace {

TEST(TaskTypeName, RoundTripsEveryType) {
  for (size_t i = 0; i < kTaskTypeCount; ++i) {
    const auto type = static_cast<TaskType>(i);
    const auto parsed = ParseTaskType(TaskTypeName(type));
    ASSERT_TRUE(parsed.has_value()) << i;
    EXPECT_EQ(*parsed, type);
  }
  EXPECT_EQ(TaskTypeName(TaskType::kGroundedQa), "grounded_qa");
  EXPECT_EQ(TaskTypeName(TaskType::kAgentic), "agentic");
}

TEST(ParseTaskType, RefusesAnythingButTheExactName) {
  for (std::string_view bad : {"", "Code", "code ", "grounded-qa", "qa", "summarisation"}) {
    EXPECT_FALSE(ParseTaskType(bad).has_value()) << bad;
  }
}

TEST(EstimateTokens, FourAsciiBytesOrOneOtherCharacterPerToken) {
  struct Case {
    std::string_view text;
    int64_t tokens;
  };
  const Case cases[] = {
      {"", 0},
      {"a", 1},
      {"abcd", 1},
      {"abcde", 2},
      {"The quick brown fox jumps over the lazy dog", 11},  // 43 bytes
      {"你好世界", 4},                                      // four Han characters
      {"こんにちは", 5},
      {"Grüße", 3},   // 4 ASCII bytes (1 token) + 2 non-ASCII characters
      {"😀", 1},       // one 4-byte character
      {"ab\xff", 2},  // a stray byte above 0xC0 counts as a character, never crashes
  };
  for (const auto& c : cases) EXPECT_EQ(EstimateTokens(c.text), c.tokens) << c.text;
}

}  // namespace
}  // namespace sy::routing
