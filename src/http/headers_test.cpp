#include "http/headers.h"

#include <string>
#include <string_view>
#include <utility>
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
  std::vector<std::string_view> names;
  for (const auto& header : h) names.push_back(header.name);
  EXPECT_EQ(names, (std::vector<std::string_view>{"x-other", "authorization"}));
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
  for (const auto& [name, value] : h) joined.append(name).append("=").append(value).append(";");
  EXPECT_EQ(joined, "a=1;b=2;c=3;");
}

// The list keeps names and values in one buffer: a header added from the list's own views
// must survive the buffer growing under them.
TEST(HeadersTest, AddCopiesAHeaderOfTheSameListWhileItsStorageGrows) {
  Headers h;
  h.Reserve(1, 8);
  h.Add("x-long-header-name", "a value long enough to outgrow the reservation");
  for (int i = 0; i < 6; ++i) {
    const Header first = *h.begin();
    h.Add(first.name, first.value);
    h.Set("x-copied", h.Get("x-long-header-name"));
  }
  EXPECT_EQ(h.size(), 8u);
  for (const auto& [name, value] : h) {
    EXPECT_TRUE(name == "x-long-header-name" || name == "x-copied") << name;
    EXPECT_EQ(value, "a value long enough to outgrow the reservation");
  }
}

TEST(HeadersTest, ACopyOwnsItsBytes) {
  Headers original{{"content-type", "application/json"}};
  const Headers copy = original;
  original.Set("content-type", "text/plain");
  original.Add("x-more", std::string(100, 'x'));
  EXPECT_EQ(copy.Get("content-type"), "application/json");
  EXPECT_EQ(copy.size(), 1u);
  Headers moved = std::move(original);
  EXPECT_EQ(moved.Get("CONTENT-TYPE"), "text/plain");
  EXPECT_EQ(moved.Get("x-more").size(), 100u);
}

TEST(HeadersTest, EmptyNamesAndValuesAreKept) {
  Headers h;
  h.Add("x-empty", "");
  h.Add("", "orphan");
  EXPECT_TRUE(h.Has("x-empty"));
  EXPECT_EQ(h.Get("x-empty"), "");
  EXPECT_EQ(h.Get(""), "orphan");
  EXPECT_EQ(h.size(), 2u);
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
