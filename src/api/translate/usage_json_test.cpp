#include "api/translate/usage_json.h"

#include <cstdint>
#include <limits>

#include <gtest/gtest.h>

#include "api/translate/translate_test_util.h"

namespace sy::api::translate {
namespace {

using test_util::J;
using test_util::MakeUsage;

TEST(UsageJson, OpenAiCountsEveryInputTokenAndShowsCacheReadsAndReasoning) {
  // 1000 input tokens of which 600 read from cache and 100 written to it; 50 output, 20 of them
  // reasoning.
  EXPECT_EQ(OpenAiUsageJson(MakeUsage(1000, 600, 100, 50, 20)),
            J(R"({"prompt_tokens":1000,"completion_tokens":50,"total_tokens":1050,
                 "prompt_tokens_details":{"cached_tokens":600},
                 "completion_tokens_details":{"reasoning_tokens":20}})"));
}

TEST(UsageJson, AnthropicInputExcludesCacheReadsAndWrites) {
  EXPECT_EQ(AnthropicUsageJson(MakeUsage(1000, 600, 100, 50, 20)),
            J(R"({"input_tokens":300,"cache_creation_input_tokens":100,
                 "cache_read_input_tokens":600,"output_tokens":50})"));
}

TEST(UsageJson, AnthropicUncachedInputNeverNegative) {
  // An inconsistent usage (more cached than input) must not show a negative count.
  EXPECT_EQ(AnthropicUsageJson(MakeUsage(10, 8, 5, 1)),
            J(R"({"input_tokens":0,"cache_creation_input_tokens":5,
                 "cache_read_input_tokens":8,"output_tokens":1})"));
}

// Found by fuzz_translate_response: an upstream may report any non-negative int64 count (the
// provider adapters accept them all); the sums overflowed (UB) instead of saturating.
TEST(UsageJson, HugeCountsSaturateInsteadOfOverflowing) {
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  EXPECT_EQ(OpenAiUsageJson(MakeUsage(kMax, 0, 0, kMax)).at("total_tokens"), kMax);
  EXPECT_EQ(AnthropicUsageJson(MakeUsage(0, kMax, kMax, 1)).at("input_tokens"), 0);
  EXPECT_EQ(AnthropicUsageJson(MakeUsage(kMax, 1, 0, 1)).at("input_tokens"), kMax - 1);
}

TEST(UsageJson, ResponsesCountsEveryInputTokenAndShowsCacheReadsAndReasoning) {
  EXPECT_EQ(ResponsesUsageJson(MakeUsage(1000, 600, 100, 50, 20)),
            J(R"({"input_tokens":1000,"input_tokens_details":{"cached_tokens":600},
                 "output_tokens":50,"output_tokens_details":{"reasoning_tokens":20},
                 "total_tokens":1050})"));
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  EXPECT_EQ(ResponsesUsageJson(MakeUsage(kMax, 0, 0, kMax)).at("total_tokens"), kMax);
}

TEST(UsageJson, ZeroUsage) {
  EXPECT_EQ(OpenAiUsageJson(core::Usage{}),
            J(R"({"prompt_tokens":0,"completion_tokens":0,"total_tokens":0,
                 "prompt_tokens_details":{"cached_tokens":0},
                 "completion_tokens_details":{"reasoning_tokens":0}})"));
}

}  // namespace
}  // namespace sy::api::translate
