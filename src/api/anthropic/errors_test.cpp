#include "api/anthropic/errors.h"

#include <string>
#include <string_view>

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

std::string TypeOf(std::string_view body) {
  return std::string(json::parse(body).at("error").at("type").as_string());
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
      {MakeError(Errc::kMethodNotAllowed), 405, "invalid_request_error"},
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

// Regression: an upstream's 404 and 413 reached Anthropic clients typed invalid_request_error.
// Anthropic types a 4xx by its status (404 not_found_error, 413 request_too_large) and uses
// invalid_request_error for the others; a relayed verdict is typed as Anthropic would type it.
TEST(EncodeError, TypesAnUpstreamVerdictByTheStatusTheClientGets) {
  const struct {
    int upstream;
    int status;
    std::string_view type;
  } cases[] = {
      {400, 400, "invalid_request_error"},
      {404, 404, "not_found_error"},
      {409, 409, "invalid_request_error"},
      {413, 413, "request_too_large"},
      {422, 422, "invalid_request_error"},
      // Not the client's request: our credentials (401/403), or no upstream status at all. The
      // 502 is the gateway's failure, typed as Anthropic types one inside its own systems
      // (regression: it was invalid_request_error, telling the client its request was at fault).
      {0, 502, "api_error"},
      {401, 502, "api_error"},
      {403, 502, "api_error"},
      {500, 502, "api_error"},
  };
  for (const auto& c : cases) {
    const auto e = MakeError(core::Errc::kUpstreamRejected, c.upstream);
    const auto encoded = EncodeError(e);
    EXPECT_EQ(encoded.status, c.status) << c.upstream;
    EXPECT_EQ(TypeOf(encoded.body), c.type) << c.upstream;
    EXPECT_EQ(TypeOf(EncodeStreamError(e)), c.type) << c.upstream;
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
  // An Anthropic upstream's own message, quoted, leads with the path already.
  e.param = "max_tokens";
  e.message = "provider p answered 400: max_tokens: Field required";
  EXPECT_EQ(json::parse(EncodeError(e).body).at("error").at("message").as_string(),
            "provider p answered 400: max_tokens: Field required");
  e.param = "stop_sequences";  // an OpenAI upstream's "stop", renamed for this client
  e.message = "provider p answered 400: Invalid type for 'stop'";
  EXPECT_EQ(json::parse(EncodeError(e).body).at("error").at("message").as_string(),
            "stop_sequences: provider p answered 400: Invalid type for 'stop'");
  // A translator's refusal, which quotes the param first: named once, not twice.
  e.param = "stop_sequences";
  e.message = "'stop_sequences': stop sequences cannot be expressed for this model";
  EXPECT_EQ(json::parse(EncodeError(e).body).at("error").at("message").as_string(),
            "stop_sequences: stop sequences cannot be expressed for this model");
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
