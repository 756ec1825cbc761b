#include "api/openai/errors.h"

#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

namespace sy::api::openai {
namespace {

namespace json = boost::json;

int StatusOf(core::Errc code, int upstream_status = 0, std::string param = "") {
  auto e = core::MakeError(code, "m");
  e.upstream_status = upstream_status;
  e.param = std::move(param);
  return EncodeError(e).status;
}

TEST(EncodeError, MapsEveryCodeToItsStatus) {
  EXPECT_EQ(StatusOf(core::Errc::kInvalidRequest), 400);
  EXPECT_EQ(StatusOf(core::Errc::kUnauthenticated), 401);
  EXPECT_EQ(StatusOf(core::Errc::kForbidden), 403);
  EXPECT_EQ(StatusOf(core::Errc::kNotFound), 404);
  EXPECT_EQ(StatusOf(core::Errc::kMethodNotAllowed), 405);
  EXPECT_EQ(StatusOf(core::Errc::kRequestTimeout), 408);
  EXPECT_EQ(StatusOf(core::Errc::kPayloadTooLarge), 413);
  EXPECT_EQ(StatusOf(core::Errc::kPayloadTooLarge, 0, "headers"), 431);
  EXPECT_EQ(StatusOf(core::Errc::kRateLimited), 429);
  EXPECT_EQ(StatusOf(core::Errc::kUpstreamTimeout), 504);
  EXPECT_EQ(StatusOf(core::Errc::kUpstreamUnavailable), 502);
  EXPECT_EQ(StatusOf(core::Errc::kInternal), 500);
  EXPECT_EQ(StatusOf(core::Errc::kOverloaded), 503);
}

TEST(EncodeError, OverloadedIsAServerErrorWithItsOwnCode) {
  const auto body = json::parse(EncodeError(core::MakeError(core::Errc::kOverloaded, "busy")).body);
  EXPECT_EQ(body.at("error").at("type").as_string(), "server_error");
  EXPECT_EQ(body.at("error").at("code").as_string(), "overloaded");
}

TEST(EncodeError, SaysModelNotFoundOnlyForModels) {
  auto model = core::MakeError(core::Errc::kNotFound, "no such model");
  model.param = "model";
  EXPECT_EQ(json::parse(EncodeError(model).body).at("error").at("code").as_string(),
            "model_not_found");
  auto path = core::MakeError(core::Errc::kNotFound, "no such endpoint");
  EXPECT_TRUE(json::parse(EncodeError(path).body).at("error").at("code").is_null());
}

TEST(EncodeError, KeepsAnUpstreamVerdictOnTheRequestButNotOnOurCredentials) {
  EXPECT_EQ(StatusOf(core::Errc::kUpstreamRejected, 400), 400);
  EXPECT_EQ(StatusOf(core::Errc::kUpstreamRejected, 422), 422);
  EXPECT_EQ(StatusOf(core::Errc::kUpstreamRejected, 401), 502);
  EXPECT_EQ(StatusOf(core::Errc::kUpstreamRejected, 403), 502);
}

// OpenAI types every 4xx about the request invalid_request_error (its own 404 and 413 too), so
// a relayed verdict keeps that type whatever its status; the code says it was the upstream's.
TEST(EncodeError, TypesEveryUpstreamVerdictAsAnInvalidRequest) {
  for (int upstream : {400, 404, 409, 413, 422}) {
    auto e = core::MakeError(core::Errc::kUpstreamRejected, "m");
    e.upstream_status = upstream;
    const auto encoded = EncodeError(e);
    EXPECT_EQ(encoded.status, upstream);
    const auto error = json::parse(encoded.body).at("error");
    EXPECT_EQ(error.at("type").as_string(), "invalid_request_error") << upstream;
    EXPECT_EQ(error.at("code").as_string(), "upstream_rejected") << upstream;
  }
}

// Regression: an upstream that refused the gateway's own credentials (401/403) reached the
// client as 502 invalid_request_error, saying its request was at fault. The 502 is the gateway's
// failure, typed as the table's other 502s are; the code still says the upstream refused.
TEST(EncodeError, TypesARefusalOfOurCredentialsAsAnUpstreamError) {
  for (int upstream : {0, 401, 403, 500}) {
    auto e = core::MakeError(core::Errc::kUpstreamRejected, "m");
    e.upstream_status = upstream;
    const auto encoded = EncodeError(e);
    EXPECT_EQ(encoded.status, 502) << upstream;
    for (const auto& body : {encoded.body, EncodeStreamError(e)}) {
      const auto error = json::parse(body).at("error");
      EXPECT_EQ(error.at("type").as_string(), "upstream_error") << upstream;
      EXPECT_EQ(error.at("code").as_string(), "upstream_rejected") << upstream;
    }
  }
}

TEST(EncodeError, TellsOpenAiClientsToBackOffWhenAnAnthropicUpstreamIsOverloaded) {
  auto e = core::MakeError(core::Errc::kUpstreamUnavailable, "Overloaded");
  e.upstream_status = 529;
  const auto encoded = EncodeError(e);
  EXPECT_EQ(encoded.status, 503);
  const auto body = json::parse(encoded.body);
  EXPECT_EQ(body.at("error").at("type").as_string(), "upstream_error");
  EXPECT_EQ(body.at("error").at("code").as_string(), "upstream_overloaded");
  EXPECT_EQ(body.at("error").at("message").as_string(), "Overloaded");
  EXPECT_EQ(StatusOf(core::Errc::kUpstreamUnavailable, 503), 502);  // only 529 means overloaded
}

TEST(EncodeError, WritesOpenAisErrorShape) {
  auto e = core::MakeError(core::Errc::kInvalidRequest, "Missing required parameter: 'model'.");
  e.param = "model";
  auto body = json::parse(EncodeError(e).body).as_object();
  const auto& err = body.at("error").as_object();
  EXPECT_EQ(err.at("message").as_string(), "Missing required parameter: 'model'.");
  EXPECT_EQ(err.at("type").as_string(), "invalid_request_error");
  EXPECT_EQ(err.at("param").as_string(), "model");
  EXPECT_TRUE(err.at("code").is_null());
}

TEST(EncodeStreamError, IsAnErrorObjectWithoutStatus) {
  auto body = json::parse(EncodeStreamError(core::MakeError(core::Errc::kUpstreamTimeout, "t")));
  EXPECT_EQ(body.at("error").at("code").as_string(), "upstream_timeout");
}

}  // namespace
}  // namespace sy::api::openai
