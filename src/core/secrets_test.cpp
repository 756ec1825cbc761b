#include "core/secrets.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace sy::core {
namespace {

TEST(SecretScrubberTest, ReplacesEveryOccurrenceOfEverySecret) {
  const SecretScrubber scrub({"sk-alpha-123456", "sk-beta-7890"});
  EXPECT_EQ(scrub.Scrub("key sk-alpha-123456 and sk-beta-7890, again sk-alpha-123456."),
            "key [redacted] and [redacted], again [redacted].");
}

TEST(SecretScrubberTest, TextWithoutSecretsIsUnchanged) {
  const SecretScrubber scrub({"sk-alpha-123456"});
  EXPECT_EQ(scrub.Scrub("nothing to see"), "nothing to see");
  EXPECT_EQ(scrub.Scrub(""), "");
  EXPECT_EQ(SecretScrubber().Scrub("sk-alpha-123456"), "sk-alpha-123456");
  EXPECT_TRUE(SecretScrubber().empty());
}

TEST(SecretScrubberTest, EmptyValuesAreIgnoredAndDuplicatesDropped) {
  const SecretScrubber scrub({"", "secret-value", "secret-value", ""});
  EXPECT_FALSE(scrub.empty());
  EXPECT_EQ(scrub.Scrub("a secret-value b"), "a [redacted] b");
  EXPECT_TRUE(SecretScrubber({"", ""}).empty());
}

TEST(SecretScrubberTest, OverlappingOccurrencesLeaveNoFragment) {
  // A secret that contains another, and two secrets that overlap in the text.
  const SecretScrubber nested({"sk-long-secret-abc", "secret"});
  EXPECT_EQ(nested.Scrub("x sk-long-secret-abc y secret z"), "x [redacted] y [redacted] z");
  const SecretScrubber overlap({"abcdef12", "ef12gh34"});
  EXPECT_EQ(overlap.Scrub("<abcdef12gh34>"), "<[redacted]>");
  const SecretScrubber self({"aaaa"});
  EXPECT_EQ(self.Scrub("xaaaaaay"), "x[redacted]y");
}

TEST(SecretScrubberTest, SecretAtTheEdgesAndBackToBack) {
  const SecretScrubber scrub({"tok3n-value"});
  EXPECT_EQ(scrub.Scrub("tok3n-value"), "[redacted]");
  EXPECT_EQ(scrub.Scrub("tok3n-valuetok3n-value"), "[redacted][redacted]");
}

TEST(SecretScrubberTest, ShortValuesAreScrubbedEvenInsideWords) {
  // The documented trade-off: a short value is still a secret, at the price of odd text.
  const SecretScrubber scrub({"test"});
  EXPECT_EQ(scrub.Scrub("latest test"), "la[redacted] [redacted]");
}

TEST(SecretScrubberTest, ScrubErrorCoversEveryTextField) {
  const SecretScrubber scrub({"sk-alpha-123456"});
  Error e = MakeError(Errc::kUpstreamRejected, "bad key sk-alpha-123456");
  e.upstream_detail = R"({"error":{"message":"key sk-alpha-123456 invalid"}})";
  e.param = "sk-alpha-123456";
  scrub.ScrubError(e);
  EXPECT_EQ(e.message, "bad key [redacted]");
  EXPECT_EQ(e.upstream_detail, R"({"error":{"message":"key [redacted] invalid"}})");
  EXPECT_EQ(e.param, "[redacted]");
}

}  // namespace
}  // namespace sy::core
