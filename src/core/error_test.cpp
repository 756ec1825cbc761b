#include "core/error.h"

#include <string>

#include <gtest/gtest.h>

#include "core/text.h"

namespace sy::core {
namespace {

// Regression: a param built from a client's key (an unknown parameter) was kept whole, and the
// dialects echo it (OpenAI's error.param, Anthropic's message).
TEST(InvalidParam, ClipsTheParamLikeEveryEcho) {
  const Error short_one = InvalidParam("messages[2].role", "m");
  EXPECT_EQ(short_one.param, "messages[2].role");
  EXPECT_EQ(short_one.code, Errc::kInvalidRequest);
  const Error long_one = InvalidParam(std::string(std::size_t{1} << 20, 'k'), "m");
  EXPECT_EQ(long_one.param, ClipForEcho(std::string(std::size_t{1} << 20, 'k')));
  EXPECT_LT(long_one.param.size(), kMaxEchoBytes + 32);
  EXPECT_EQ(long_one.message, "m");
}

}  // namespace
}  // namespace sy::core
