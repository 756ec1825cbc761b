#include "providers/upstream_error.h"

#include <gtest/gtest.h>

namespace sy::providers {
namespace {

TEST(UpstreamError, MapsStatusesToCodes) {
  const http::Headers none;
  EXPECT_EQ(UpstreamError(429, none, "p", "", "").code, core::Errc::kRateLimited);
  EXPECT_EQ(UpstreamError(500, none, "p", "", "").code, core::Errc::kUpstreamUnavailable);
  EXPECT_EQ(UpstreamError(503, none, "p", "", "").code, core::Errc::kUpstreamUnavailable);
  EXPECT_EQ(UpstreamError(529, none, "p", "", "").code, core::Errc::kUpstreamUnavailable);
  EXPECT_EQ(UpstreamError(504, none, "p", "", "").code, core::Errc::kUpstreamTimeout);
  EXPECT_EQ(UpstreamError(400, none, "p", "", "").code, core::Errc::kUpstreamRejected);
  EXPECT_EQ(UpstreamError(400, none, "p", "", "").upstream_status, 400);
}

TEST(UpstreamError, ReadsRetryAfterInSecondsOrMilliseconds) {
  http::Headers seconds{{"Retry-After", "2"}};
  EXPECT_EQ(UpstreamError(429, seconds, "p", "", "").retry_after, std::chrono::seconds(2));
  http::Headers fractional{{"retry-after", "0.25"}};
  EXPECT_EQ(UpstreamError(429, fractional, "p", "", "").retry_after,
            std::chrono::milliseconds(250));
  http::Headers ms{{"retry-after-ms", "150"}, {"retry-after", "9"}};
  EXPECT_EQ(UpstreamError(429, ms, "p", "", "").retry_after, std::chrono::milliseconds(150));
  http::Headers garbage{{"retry-after", "Wed, 21 Oct 2015 07:28:00 GMT"}};
  EXPECT_FALSE(UpstreamError(429, garbage, "p", "", "").retry_after.has_value());
}

TEST(UpstreamError, KeepsTheUpstreamMessageButNeverEchoesCredentialFailures) {
  auto bad = UpstreamError(400, {}, "openai", "max_tokens is too large", "{...}");
  EXPECT_NE(bad.message.find("max_tokens is too large"), std::string::npos);
  auto auth = UpstreamError(401, {}, "openai", "Incorrect API key provided: sk-abc***", "{...}");
  EXPECT_EQ(auth.message.find("sk-abc"), std::string::npos);
  EXPECT_NE(auth.message.find("credentials"), std::string::npos);
}

TEST(UpstreamError, TruncatesTheRawDetail) {
  const std::string huge(100'000, 'x');
  EXPECT_LE(UpstreamError(500, {}, "p", "", huge).upstream_detail.size(), 2048u);
}

}  // namespace
}  // namespace sy::providers
