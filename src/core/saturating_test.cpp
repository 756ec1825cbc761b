#include "core/saturating.h"

#include <cstdint>
#include <limits>

#include <gtest/gtest.h>

namespace sy::core {
namespace {

constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
constexpr int64_t kMin = std::numeric_limits<int64_t>::min();

TEST(SaturatingTest, AddPinsAtEitherEnd) {
  EXPECT_EQ(SaturatingAdd(2, 3), 5);
  EXPECT_EQ(SaturatingAdd(kMax, 1), kMax);
  EXPECT_EQ(SaturatingAdd(kMin, -1), kMin);
}

TEST(SaturatingTest, MulPinsAtTheEndOfTheProductsSign) {
  EXPECT_EQ(SaturatingMul(6, 7), 42);
  EXPECT_EQ(SaturatingMul(kMax, 2), kMax);
  EXPECT_EQ(SaturatingMul(kMin, -2), kMax);
  EXPECT_EQ(SaturatingMul(kMax, -2), kMin);
  EXPECT_EQ(SaturatingMul(-3, kMax), kMin);
  EXPECT_EQ(SaturatingMul(0, kMax), 0);
}

}  // namespace
}  // namespace sy::core
