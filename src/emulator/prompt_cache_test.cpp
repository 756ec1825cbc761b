#include "emulator/prompt_cache.h"

#include <numeric>

#include <gtest/gtest.h>

namespace sy::emulator {
namespace {

std::vector<uint64_t> Tokens(size_t n, uint64_t start = 0) {
  std::vector<uint64_t> tokens(n);
  std::iota(tokens.begin(), tokens.end(), start);
  return tokens;
}

TEST(PromptCacheTest, OpenAiReportsTheSharedPrefixInBlocksOf128) {
  PromptCache cache;
  std::vector<uint64_t> first = Tokens(1500);
  EXPECT_EQ(cache.LookupAndInsertPrefix("m", first), 0);  // first sight
  std::vector<uint64_t> second = first;
  second.resize(1400);
  second.resize(2000, 7);                                      // shares 1400 tokens with the first
  EXPECT_EQ(cache.LookupAndInsertPrefix("m", second), 1280);   // 1400 rounded down to 128s
  EXPECT_EQ(cache.LookupAndInsertPrefix("m", second), 1920);   // now seen whole: 2000 -> 1920
  EXPECT_EQ(cache.LookupAndInsertPrefix("other", second), 0);  // caches are per model
}

TEST(PromptCacheTest, OpenAiIgnoresShortPromptsAndShortPrefixes) {
  PromptCache cache;
  std::vector<uint64_t> short_prompt = Tokens(1000);
  EXPECT_EQ(cache.LookupAndInsertPrefix("m", short_prompt), 0);
  EXPECT_EQ(cache.LookupAndInsertPrefix("m", short_prompt), 0);
  std::vector<uint64_t> a = Tokens(1200);
  std::vector<uint64_t> b = Tokens(1200);
  b[1000] = 99999;  // shares only 1000 tokens: below the 1024 minimum
  EXPECT_EQ(cache.LookupAndInsertPrefix("m", a), 0);
  EXPECT_EQ(cache.LookupAndInsertPrefix("m", b), 0);
  cache.Clear();
  EXPECT_EQ(cache.LookupAndInsertPrefix("m", a), 0);
}

TEST(PromptCacheTest, AnthropicBreakpointsCreateThenRead) {
  PromptCache cache;
  std::vector<uint64_t> prompt = Tokens(3000);
  std::vector<size_t> breakpoints = {1500, 2500};
  auto first = cache.LookupAndInsertBreakpoints("m", prompt, breakpoints);
  EXPECT_EQ(first.read_tokens, 0);
  EXPECT_EQ(first.created_tokens, 2500);
  auto second = cache.LookupAndInsertBreakpoints("m", prompt, breakpoints);
  EXPECT_EQ(second.read_tokens, 2500);
  EXPECT_EQ(second.created_tokens, 0);
  // Same 1500-token prefix, new tail: the first breakpoint is read, the rest written.
  std::vector<uint64_t> changed = prompt;
  changed[2000] = 42;
  auto third = cache.LookupAndInsertBreakpoints("m", changed, breakpoints);
  EXPECT_EQ(third.read_tokens, 1500);
  EXPECT_EQ(third.created_tokens, 1000);
}

TEST(PromptCacheTest, AnthropicShortPrefixesAreNotCached) {
  PromptCache cache;
  auto use = cache.LookupAndInsertBreakpoints("m", Tokens(900), {500, 900});
  EXPECT_EQ(use.read_tokens, 0);
  EXPECT_EQ(use.created_tokens, 0);
  use = cache.LookupAndInsertBreakpoints("m", Tokens(900), {500, 900});
  EXPECT_EQ(use.read_tokens, 0);
  EXPECT_EQ(cache.LookupAndInsertBreakpoints("m", Tokens(900), {}).created_tokens, 0);
}

}  // namespace
}  // namespace sy::emulator
