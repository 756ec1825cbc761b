#include "app/auth.h"

#include <gtest/gtest.h>

namespace sy::app {
namespace {

TEST(AuthTest, BearerTokenReadsOnlyBearerCredentials) {
  const struct {
    const char* header;
    const char* token;
  } cases[] = {
      {"Bearer sk-sy-abc", "sk-sy-abc"},
      {"bearer  sk-sy-abc ", "sk-sy-abc"},
      {"BEARER x", "x"},
      {"Bearer", ""},
      {"Bearer ", ""},
      {"Basic dXNlcjpwYXNz", ""},
      {"Token sk-sy-abc", ""},
      {"sk-sy-abc", ""},
  };
  for (const auto& c : cases) EXPECT_EQ(BearerToken(c.header), c.token) << c.header;
}

TEST(AuthTest, PresentedKeyPrefersAuthorizationAndRefusesOddHeaders) {
  http::Headers both;
  both.Add("authorization", "Bearer from-authorization");
  both.Add("x-api-key", "from-x-api-key");
  EXPECT_EQ(*PresentedKey(both), "from-authorization");
  http::Headers anthropic;
  anthropic.Add("x-api-key", "from-x-api-key");
  EXPECT_EQ(*PresentedKey(anthropic), "from-x-api-key");
  for (const std::string& value : {std::string("Basic abc"), "Bearer " + std::string(600, 'a'),
                                   std::string("Bearer \xc3\xa9")}) {
    http::Headers odd;
    odd.Add("authorization", value);
    auto key = PresentedKey(odd);
    ASSERT_FALSE(key) << value.substr(0, 20);
    EXPECT_EQ(key.error().message, "Invalid API key.");
  }
  auto none = PresentedKey(http::Headers());
  ASSERT_FALSE(none);
  EXPECT_EQ(AuthFailureReason(none.error()), "missing");
}

core::Error Refusal(core::Errc code, std::string message, std::string_view reason) {
  auto e = core::MakeError(code, std::move(message));
  e.reason = reason;
  return e;
}

// The label is the producer's reason (the directory says "revoked", PresentedKey "missing"),
// never the message's wording.
TEST(AuthTest, AuthFailureReasonNamesEachRefusal) {
  EXPECT_EQ(AuthFailureReason(core::MakeError(core::Errc::kUnauthenticated, "Invalid API key.")),
            "invalid");
  EXPECT_EQ(AuthFailureReason(
                Refusal(core::Errc::kUnauthenticated, "This API key was revoked.", "revoked")),
            "revoked");
  EXPECT_EQ(AuthFailureReason(core::MakeError(core::Errc::kUnauthenticated,
                                              "No API key, and this key was revoked")),
            "invalid");
  EXPECT_EQ(AuthFailureReason(core::MakeError(core::Errc::kForbidden, "This key may not use")),
            "forbidden");
}

}  // namespace
}  // namespace sy::app
