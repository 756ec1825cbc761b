#include "api/anthropic/errors.h"

#include <string>

#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

namespace sy::api::anthropic {
namespace {

namespace json = boost::json;

core::Error MakeError(core::Errc code, int upstream_status = 0, std::string param = "") {
  auto e = core::MakeError(code, "m");
  e.upstream_status = upstream_status;
  e.param = std::move(param);
  return e;
}

struct Expected {
  core::Error error;
  int status;
  std::string type;
};

TEST(EncodeError, MapsEveryCodeToItsStatusAndType) {
  using core::Errc;
  const Expected cases[] = {
      {MakeError(Errc::kInvalidRequest), 400, "invalid_request_error"},
      {MakeError(Errc::kUnauthenticated), 401, "authentication_error"},
      {MakeError(Errc::kForbidden), 403, "permission_error"},
      {MakeError(Errc::kNotFound), 404, "not_found_error"},
      {MakeError(Errc::kPayloadTooLarge), 413, "request_too_large"},
      {MakeError(Errc::kPayloadTooLarge, 0, "headers"), 431, "request_too_large"},
      {MakeError(Errc::kRequestTimeout), 408, "timeout_error"},
      {MakeError(Errc::kRateLimited), 429, "rate_limit_error"},
      {MakeError(Errc::kBudgetExceeded), 429, "rate_limit_error"},
      {MakeError(Errc::kUpstreamTimeout), 504, "timeout_error"},
      {MakeError(Errc::kUpstreamUnavailable), 502, "api_error"},
      {MakeError(Errc::kUpstreamUnavailable, 503), 502, "api_error"},
      {MakeError(Errc::kUpstreamUnavailable, 529), 529, "overloaded_error"},
      {MakeError(Errc::kVerificationFailed), 502, "api_error"},
      {MakeError(Errc::kInternal), 500, "api_error"},
      {MakeError(Errc::kOverloaded), 503, "overloaded_error"},
  };
  for (const auto& c : cases) {
    const auto encoded = EncodeError(c.error);
    EXPECT_EQ(encoded.status, c.status) << core::ErrcName(c.error.code);
    EXPECT_EQ(json::parse(encoded.body).at("error").at("type").as_string(), c.type)
        << core::ErrcName(c.error.code);
  }
}

TEST(EncodeError, KeepsAnUpstreamVerdictOnTheRequestButNotOnOurCredentials) {
  for (int upstream : {400, 404, 413, 422}) {
    const auto encoded = EncodeError(MakeError(core::Errc::kUpstreamRejected, upstream));
    EXPECT_EQ(encoded.status, upstream);
    EXPECT_EQ(json::parse(encoded.body).at("error").at("type").as_string(),
              "invalid_request_error");
  }
  for (int upstream : {0, 401, 403, 500}) {
    const auto encoded = EncodeError(MakeError(core::Errc::kUpstreamRejected, upstream));
    EXPECT_EQ(encoded.status, 502) << upstream;
    EXPECT_EQ(json::parse(encoded.body).at("error").at("type").as_string(),
              "invalid_request_error");
  }
}

TEST(EncodeError, WritesAnthropicsErrorShape) {
  const auto encoded =
      EncodeError(core::MakeError(core::Errc::kNotFound, "model: claude-9 does not exist"));
  EXPECT_EQ(encoded.status, 404);
  EXPECT_EQ(json::parse(encoded.body),
            json::parse(R"({"type":"error","error":{"type":"not_found_error",
                            "message":"model: claude-9 does not exist"}})"));
}

TEST(EncodeError, LeadsTheMessageWithTheParamOnlyOnce) {
  auto e = core::MakeError(core::Errc::kInvalidRequest, "Input should be a valid string");
  e.param = "messages.0.content.0.text";
  EXPECT_EQ(json::parse(EncodeError(e).body).at("error").at("message").as_string(),
            "messages.0.content.0.text: Input should be a valid string");
  e.message = "messages.0.content.0.text: Input should be a valid string";  // as the decoder says
  EXPECT_EQ(json::parse(EncodeError(e).body).at("error").at("message").as_string(),
            "messages.0.content.0.text: Input should be a valid string");
  e.param.clear();
  e.message = "The request body must be a JSON object.";
  EXPECT_EQ(json::parse(EncodeError(e).body).at("error").at("message").as_string(),
            "The request body must be a JSON object.");
}

TEST(EncodeStreamError, IsTheSameJsonWithoutAStatus) {
  auto e = core::MakeError(core::Errc::kUpstreamUnavailable, "Overloaded");
  e.upstream_status = 529;
  EXPECT_EQ(json::parse(EncodeStreamError(e)),
            json::parse(R"({"type":"error","error":{"type":"overloaded_error",
                            "message":"Overloaded"}})"));
  EXPECT_EQ(EncodeStreamError(e), EncodeError(e).body);
}

}  // namespace
}  // namespace sy::api::anthropic
