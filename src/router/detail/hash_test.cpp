#include "router/detail/hash.h"

#include <cstdint>
#include <string_view>

#include <gtest/gtest.h>

#include "router/detail/features.h"
#include "router/train.h"

namespace sy::router::detail {
namespace {

// These values are part of every shipped model's meaning: if one of these tests fails, the hash
// changed, and every model file must be retrained (and kFormatVersion bumped).
TEST(RouterHashTest, Fnv1a64IsPinned) {
  const struct {
    std::string_view text;
    uint64_t hash;
  } cases[] = {
      {"", 0xcbf29ce484222325ULL},
      {"a", 0xaf63dc4c8601ec8cULL},
      {"foobar", 0x85944171f73967e8ULL},
      {"routellm-mmlu/abstract_algebra/0", 0xa1babd71b8168eacULL},
  };
  for (const auto& c : cases) EXPECT_EQ(Fnv1a64(c.text), c.hash) << c.text;
  static_assert(Fnv1a64("a") == 0xaf63dc4c8601ec8cULL, "usable at compile time");
}

TEST(RouterHashTest, Mix64IsPinned) {
  EXPECT_EQ(Mix64(0), 0u);
  EXPECT_EQ(Mix64(1), 0x5692161d100b05e5ULL);
  EXPECT_EQ(Mix64(0xcbf29ce484222325ULL), 0xf52a15e9a9b5e89bULL);
}

TEST(RouterHashTest, BucketsArePinned) {
  // The unigram "paris" (folded), the bigram salt and the top bits of the mix.
  const uint64_t paris = Fnv1a64("paris");
  EXPECT_EQ(BucketOf(paris, SparseKind::kUnigram, 16) >> 4,
            BucketOf(paris, SparseKind::kUnigram, 12));
  EXPECT_NE(BucketOf(paris, SparseKind::kUnigram, 16), BucketOf(paris, SparseKind::kBigram, 16));
  EXPECT_EQ(BucketOf(paris, SparseKind::kUnigram, 16), 16108u);
  EXPECT_EQ(BucketOf(paris, SparseKind::kBigram, 16), 50373u);
  EXPECT_EQ(BucketOf(paris, SparseKind::kCharGram, 16), 10099u);
}

TEST(RouterHashTest, ValidationSplitIsAFifthByIdHash) {
  const struct {
    std::string_view id;
    bool validation;
  } cases[] = {
      {"routellm-gsm8k/9", true},  {"routellm-gsm8k/11", true},    {"routellm-gsm8k/0", false},
      {"routellm-gsm8k/1", false}, {"routellm-mtbench/81", false}, {"", false},
  };
  for (const auto& c : cases) EXPECT_EQ(InValidationSplit(c.id), c.validation) << c.id;
}

}  // namespace
}  // namespace sy::router::detail
