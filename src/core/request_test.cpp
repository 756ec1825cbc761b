#include "core/request.h"

#include <gtest/gtest.h>

namespace sy::core {
namespace {

TEST(DialectNameTest, ParsesWhatItNamesAndNothingElse) {
  for (Dialect d : {Dialect::kOpenAiChat, Dialect::kAnthropicMessages, Dialect::kOpenAiResponses}) {
    EXPECT_EQ(ParseDialectName(DialectName(d)), d) << DialectName(d);
  }
  EXPECT_EQ(ParseDialectName("anthropic"), Dialect::kAnthropicMessages);
  for (const char* other : {"", "chat", "Anthropic", "openai "}) {
    EXPECT_FALSE(ParseDialectName(other)) << other;
  }
}

}  // namespace
}  // namespace sy::core
