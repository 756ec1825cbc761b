#include "core/text.h"

#include <gtest/gtest.h>

namespace sy::core {
namespace {

TEST(ClipForEchoTest, ShortTextIsUnchanged) {
  EXPECT_EQ(ClipForEcho("gpt-5.5"), "gpt-5.5");
  EXPECT_EQ(ClipForEcho(std::string(256, 'a')), std::string(256, 'a'));
  EXPECT_EQ(ClipForEcho(""), "");
}

TEST(ClipForEchoTest, LongTextIsCutAndMarked) {
  const std::string big(8 * 1024 * 1024, 'm');
  const std::string clipped = ClipForEcho(big);
  EXPECT_EQ(clipped, std::string(256, 'm') + "...[cut, 8388608 bytes]");
  EXPECT_EQ(ClipForEcho("abcdef", 3), "abc...[cut, 6 bytes]");
}

TEST(ClipForEchoTest, NeverSplitsAUtf8Character) {
  // "é" is two bytes (C3 A9): a cut after 3 bytes of "aéé" would split the second one.
  EXPECT_EQ(ClipForEcho("a\xC3\xA9\xC3\xA9", 4), "a\xC3\xA9...[cut, 5 bytes]");
  // A four-byte character straddling the bound is dropped whole.
  EXPECT_EQ(ClipForEcho("\xF0\x9F\x98\x80xyz", 2), "...[cut, 7 bytes]");
}

TEST(TrimTest, SpaceStripsAsciiWhitespaceAndOwsOnlySpacesAndTabs) {
  struct Case {
    const char* text;
    const char* space;
    const char* ows;
  };
  for (const Case& c : {
           Case{"", "", ""}, Case{" \t\r\n", "", "\r\n"}, Case{"\t a b \r\n", "a b", "a b \r\n"},
           Case{"gzip", "gzip", "gzip"},
           Case{" \v x", "\v x", "\v x"},  // only the four ASCII blanks, not \v
       }) {
    EXPECT_EQ(TrimSpace(c.text), c.space) << c.text;
    EXPECT_EQ(TrimOws(c.text), c.ows) << c.text;
  }
}

TEST(ClipForEchoTest, ClipInPlaceLeavesShortTextAlone) {
  std::string s = "short";
  ClipInPlace(s, 10);
  EXPECT_EQ(s, "short");
  s = std::string(20, 'x');
  ClipInPlace(s, 10);
  EXPECT_EQ(s, std::string(10, 'x') + "...[cut, 20 bytes]");
}

TEST(ControlCharacters, C0DelAndUtf8C1AreControlsOtherTextIsNot) {
  EXPECT_EQ(ControlCharacterAt("\x1b[31m"), 1u);
  EXPECT_EQ(ControlCharacterAt("\x7f"), 1u);
  EXPECT_EQ(ControlCharacterAt("\xc2\x9b"), 2u);      // U+009B, CSI
  EXPECT_EQ(ControlCharacterAt("\xc2\xa0"), 0u);      // U+00A0, a no-break space
  EXPECT_EQ(ControlCharacterAt("\xe2\x82\xac"), 0u);  // the euro sign: 0x82 continues it
  EXPECT_EQ(ControlCharacterAt(""), 0u);
  EXPECT_TRUE(HasControlCharacters("name\r\n"));
  EXPECT_FALSE(HasControlCharacters("caf\xc3\xa9 \xe2\x82\xac"));
  const std::string_view text("a\x1b[2J\x00\xc2\x85\\z", 10);  // with its NUL
  EXPECT_EQ(EscapeControlCharacters(text), std::string("a\\x1b[2J\\x00\\u0085\\\\z"));
}

TEST(ShortestText, ReadsBackAsTheNumberInTheFewestDigits) {
  EXPECT_EQ(ShortestText(0.36), "0.36");
  EXPECT_EQ(ShortestText(2.0), "2");
  EXPECT_EQ(ShortestText(1.0000001), "1.0000001");
  EXPECT_EQ(ShortestText(1e308), "1e+308");
}

}  // namespace
}  // namespace sy::core
