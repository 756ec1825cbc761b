#include "providers/openai_compat/openai_provider.h"

#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

namespace sy::providers {
namespace {

TEST(ParseOpenAiUsage, ReadsEveryCounter) {
  auto usage = ParseOpenAiUsage(boost::json::parse(R"({
      "prompt_tokens": 1200, "completion_tokens": 300, "total_tokens": 1500,
      "prompt_tokens_details": {"cached_tokens": 1024},
      "completion_tokens_details": {"reasoning_tokens": 200}})"));
  ASSERT_TRUE(usage.has_value());
  EXPECT_TRUE(usage->reported);
  EXPECT_EQ(usage->input_tokens, 1200);
  EXPECT_EQ(usage->cached_input_tokens, 1024);
  EXPECT_EQ(usage->output_tokens, 300);
  EXPECT_EQ(usage->reasoning_tokens, 200);
}

TEST(ParseOpenAiUsage, ToleratesMissingDetailsAndNull) {
  auto usage = ParseOpenAiUsage(boost::json::parse(R"({"prompt_tokens":5,"completion_tokens":2,
                                                       "prompt_tokens_details":null})"));
  ASSERT_TRUE(usage.has_value());
  EXPECT_EQ(usage->cached_input_tokens, 0);
  EXPECT_FALSE(ParseOpenAiUsage(boost::json::parse("null")).has_value());
}

}  // namespace
}  // namespace sy::providers
