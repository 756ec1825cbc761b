#include "providers/upstream_error.h"

#include <string>
#include <string_view>

#include <gtest/gtest.h>

namespace sy::providers {
namespace {

const core::SecretScrubber kNoSecrets;

TEST(UpstreamError, MapsStatusesToCodes) {
  const http::Headers none;
  EXPECT_EQ(UpstreamError(429, none, "p", "", "", kNoSecrets).code, core::Errc::kRateLimited);
  EXPECT_EQ(UpstreamError(500, none, "p", "", "", kNoSecrets).code,
            core::Errc::kUpstreamUnavailable);
  EXPECT_EQ(UpstreamError(503, none, "p", "", "", kNoSecrets).code,
            core::Errc::kUpstreamUnavailable);
  EXPECT_EQ(UpstreamError(529, none, "p", "", "", kNoSecrets).code,
            core::Errc::kUpstreamUnavailable);
  EXPECT_EQ(UpstreamError(504, none, "p", "", "", kNoSecrets).code, core::Errc::kUpstreamTimeout);
  EXPECT_EQ(UpstreamError(400, none, "p", "", "", kNoSecrets).code, core::Errc::kUpstreamRejected);
  EXPECT_EQ(UpstreamError(400, none, "p", "", "", kNoSecrets).upstream_status, 400);
}

TEST(OpenAiFailureStatus, StandsForTheStatusItsCodeOrTypeNames) {
  struct Case {
    std::string_view type;
    std::string_view code;
    int status;
  };
  const Case cases[] = {
      {"", "rate_limit_exceeded", 429},
      {"tokens", "rate_limit_exceeded", 429},  // OpenAI's 429 bodies name the limit as the type
      {"insufficient_quota", "insufficient_quota", 429},
      {"insufficient_quota", "", 429},
      {"invalid_request_error", "context_length_exceeded", 400},
      {"invalid_request_error", "", 400},
      {"invalid_request_error", "some_new_code", 400},  // an unknown code: the type decides
      {"", "invalid_prompt", 400},
      {"", "image_content_policy_violation", 400},
      {"", "failed_to_download_image", 400},
      {"", "invalid_api_key", 401},
      {"authentication_error", "", 401},
      {"server_error", "", 500},
      {"", "server_error", 500},
      {"", "vector_store_timeout", 504},
      {"", "server_is_overloaded", 503},
      {"", "", 500},                         // nothing said: a retryable failure
      {"brand_new_type", "brand_new", 500},  // not known yet: the same
      // The code wins over the type: a rate limit reported under a request-error type.
      {"invalid_request_error", "rate_limit_exceeded", 429},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(OpenAiFailureStatus(c.type, c.code), c.status) << c.type << " / " << c.code;
  }
}

TEST(UpstreamError, ReadsRetryAfterInSecondsOrMilliseconds) {
  http::Headers seconds{{"Retry-After", "2"}};
  EXPECT_EQ(UpstreamError(429, seconds, "p", "", "", kNoSecrets).retry_after,
            std::chrono::seconds(2));
  http::Headers fractional{{"retry-after", "0.25"}};
  EXPECT_EQ(UpstreamError(429, fractional, "p", "", "", kNoSecrets).retry_after,
            std::chrono::milliseconds(250));
  http::Headers ms{{"retry-after-ms", "150"}, {"retry-after", "9"}};
  EXPECT_EQ(UpstreamError(429, ms, "p", "", "", kNoSecrets).retry_after,
            std::chrono::milliseconds(150));
  http::Headers garbage{{"retry-after", "Wed, 21 Oct 2015 07:28:00 GMT"}};
  EXPECT_FALSE(UpstreamError(429, garbage, "p", "", "", kNoSecrets).retry_after.has_value());
}

TEST(UpstreamError, KeepsTheUpstreamMessageButNeverEchoesCredentialFailures) {
  auto bad = UpstreamError(400, {}, "openai", "max_tokens is too large", "{...}", kNoSecrets);
  EXPECT_NE(bad.message.find("max_tokens is too large"), std::string::npos);
  auto auth = UpstreamError(401, {}, "openai", "Incorrect API key provided: sk-abc***", "{...}",
                            kNoSecrets);
  EXPECT_EQ(auth.message.find("sk-abc"), std::string::npos);
  EXPECT_NE(auth.message.find("credentials"), std::string::npos);
}

TEST(UpstreamError, TruncatesTheRawDetail) {
  const std::string huge(100'000, 'x');
  EXPECT_LE(UpstreamError(500, {}, "p", "", huge, kNoSecrets).upstream_detail.size(), 2048u);
}

constexpr std::string_view kKey = "sk-proj-Q7wE9rT2yU4iO6pA8sD0fG1hJ3kL5zX";

// True when `text` holds any 8-byte piece of kKey.
bool HoldsKeyFragment(std::string_view text) {
  for (size_t i = 0; i + 8 <= kKey.size(); ++i) {
    if (text.find(kKey.substr(i, 8)) != std::string_view::npos) return true;
  }
  return false;
}

// Regression: 400/404/500/503/529 bodies used to be relayed and stored verbatim, so a provider
// echoing the gateway's key leaked it to the client and the ledger.
TEST(UpstreamError, ScrubsTheProvidersKeyFromMessageAndDetail) {
  const core::SecretScrubber secrets({std::string(kKey)});
  const std::string message = "Invalid request for key " + std::string(kKey) + ".";
  const std::string body = R"({"error":{"message":")" + message + R"("}})";
  for (int status : {400, 404, 429, 500, 503, 529}) {
    auto e = UpstreamError(status, {}, "openai", message, body, secrets);
    EXPECT_FALSE(HoldsKeyFragment(e.message)) << status << ": " << e.message;
    EXPECT_FALSE(HoldsKeyFragment(e.upstream_detail)) << status << ": " << e.upstream_detail;
    EXPECT_NE(e.message.find("Invalid request for key [redacted]."), std::string::npos)
        << e.message;
  }
}

TEST(UpstreamError, KeepsTheParamItNamesScrubbedClippedAndNotOnCredentialFailures) {
  const core::SecretScrubber secrets({std::string(kKey)});
  EXPECT_EQ(UpstreamError(400, {}, "p", "m", "", kNoSecrets, "stop").param, "stop");
  EXPECT_EQ(UpstreamError(400, {}, "p", "m", "", kNoSecrets).param, "");
  EXPECT_EQ(UpstreamError(400, {}, "p", "m", "", secrets, "x" + std::string(kKey)).param,
            "x[redacted]");
  EXPECT_LE(
      UpstreamError(400, {}, "p", "m", "", kNoSecrets, std::string(100'000, 'p')).param.size(),
      core::kMaxEchoBytes + 32);
  for (int status : {401, 403}) {
    EXPECT_EQ(UpstreamError(status, {}, "p", "m", "", kNoSecrets, "api_key").param, "") << status;
  }
}

TEST(UpstreamError, CutsTheMessageOnAUtf8BoundaryAndMarksIt) {
  std::string message;
  for (int i = 0; i < 400; ++i) message += "\xc3\xa9";  // 800 bytes of 2-byte characters
  auto e = UpstreamError(400, {}, "p", message, message, kNoSecrets);
  const std::string prefix = "provider p answered 400: ";
  ASSERT_EQ(e.message.rfind(prefix, 0), 0u);
  const std::string shown = e.message.substr(prefix.size());
  EXPECT_LE(shown.size(), kMaxUpstreamMessageBytes);
  ASSERT_GE(shown.size(), 3u);
  EXPECT_EQ(shown.substr(shown.size() - 3), "...");
  EXPECT_EQ((shown.size() - 3) % 2, 0u) << "a two-byte character was split";
  EXPECT_EQ(shown.substr(0, 2), "\xc3\xa9");
  EXPECT_EQ(UpstreamError(400, {}, "p", "short", "", kNoSecrets).message,
            "provider p answered 400: short");
}

TEST(UpstreamError, AKeyAcrossTheCutLeavesNoFragment) {
  const core::SecretScrubber secrets({std::string(kKey)});
  const std::string message = std::string(kMaxUpstreamMessageBytes - 20, 'x') + std::string(kKey);
  const std::string body = std::string(kMaxUpstreamDetailBytes - 20, 'y') + std::string(kKey);
  auto e = UpstreamError(500, {}, "p", message, body, secrets);
  EXPECT_FALSE(HoldsKeyFragment(e.message)) << e.message;
  EXPECT_FALSE(HoldsKeyFragment(e.upstream_detail)) << e.upstream_detail;
  EXPECT_LE(e.upstream_detail.size(), kMaxUpstreamDetailBytes);
}

TEST(CutUtf8, KeepsShortTextAndBoundsLongText) {
  EXPECT_EQ(CutUtf8("abc", 3), "abc");
  EXPECT_EQ(CutUtf8("abcdef", 5), "ab...");
  EXPECT_EQ(CutUtf8("abcdef", 2), "..");
  EXPECT_EQ(CutUtf8("\xe2\x82\xac\xe2\x82\xac", 5), "...");  // never half a euro sign
}

}  // namespace
}  // namespace sy::providers
