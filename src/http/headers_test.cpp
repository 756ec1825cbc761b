#include "http/headers.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace sy::http {
namespace {

TEST(HeadersTest, GetIgnoresCase) {
  Headers h;
  h.Add("Content-Type", "application/json");
  EXPECT_EQ(h.Get("content-type"), "application/json");
  EXPECT_EQ(h.Get("CONTENT-TYPE"), "application/json");
  EXPECT_EQ(h.Get("Content-Type"), "application/json");
  EXPECT_EQ(h.Get("content-length"), "");
  EXPECT_EQ(h.Get("content-typ"), "");
}

TEST(HeadersTest, HasIgnoresCase) {
  const Headers h{{"X-Request-Id", "abc"}};
  EXPECT_TRUE(h.Has("x-request-id"));
  EXPECT_TRUE(h.Has("X-REQUEST-ID"));
  EXPECT_FALSE(h.Has("x-request"));
  EXPECT_FALSE(Headers().Has("x-request-id"));
}

TEST(HeadersTest, GetReturnsTheFirstOfRepeatedHeaders) {
  Headers h;
  h.Add("Set-Cookie", "a=1");
  h.Add("set-cookie", "b=2");
  EXPECT_EQ(h.Get("SET-COOKIE"), "a=1");
  EXPECT_EQ(h.size(), 2u);
}

TEST(HeadersTest, SetReplacesEverySpellingOfTheName) {
  Headers h;
  h.Add("Authorization", "old-1");
  h.Add("x-other", "kept");
  h.Add("AUTHORIZATION", "old-2");
  h.Set("authorization", "new");
  EXPECT_EQ(h.Get("Authorization"), "new");
  ASSERT_EQ(h.size(), 2u);
  std::vector<std::string> names;
  for (const auto& header : h) names.push_back(header.name);
  EXPECT_EQ(names, (std::vector<std::string>{"x-other", "authorization"}));
}

TEST(HeadersTest, SetAddsAnAbsentHeader) {
  Headers h;
  h.Set("X-New", "1");
  EXPECT_TRUE(h.Has("x-new"));
  EXPECT_EQ(h.size(), 1u);
}

TEST(HeadersTest, AddKeepsOrder) {
  Headers h{{"a", "1"}, {"b", "2"}};
  h.Add("c", "3");
  std::string joined;
  for (const auto& header : h) joined += header.name + "=" + header.value + ";";
  EXPECT_EQ(joined, "a=1;b=2;c=3;");
}

TEST(HeadersTest, EqualsIgnoreCaseComparesOnlyAsciiLetters) {
  EXPECT_TRUE(EqualsIgnoreCase("Content-Length", "content-length"));
  EXPECT_TRUE(EqualsIgnoreCase("", ""));
  EXPECT_FALSE(EqualsIgnoreCase("abc", "abcd"));
  EXPECT_FALSE(EqualsIgnoreCase("a-b", "a_b"));
  // '@' (0x40) and '`' (0x60) differ by 32 like letters do, but are not letters.
  EXPECT_FALSE(EqualsIgnoreCase("@", "`"));
  EXPECT_FALSE(EqualsIgnoreCase("[", "{"));
}

}  // namespace
}  // namespace sy::http
