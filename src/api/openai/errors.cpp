#include "api/openai/errors.h"

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

namespace sy::api::openai {
namespace {

namespace json = boost::json;

struct Mapping {
  int status;
  const char* type;
  const char* code;  // nullptr: null
};

Mapping MappingFor(const core::Error& e) {
  using core::Errc;
  switch (e.code) {
    case Errc::kInvalidRequest:
      return {400, "invalid_request_error", nullptr};
    case Errc::kUnauthenticated:
      return {401, "authentication_error", "invalid_api_key"};
    case Errc::kForbidden:
      return {403, "permission_error", nullptr};
    case Errc::kNotFound:  // OpenAI says model_not_found only for models; a bad URL has none
      return {404, "invalid_request_error", e.param == "model" ? "model_not_found" : nullptr};
    case Errc::kMethodNotAllowed:
      return {405, "invalid_request_error", "method_not_allowed"};
    case Errc::kPayloadTooLarge:
      return e.param == "headers" ? Mapping{431, "invalid_request_error", "headers_too_large"}
                                  : Mapping{413, "invalid_request_error", "request_too_large"};
    case Errc::kRequestTimeout:
      return {408, "invalid_request_error", "request_timeout"};
    case Errc::kRateLimited:
      return {429, "rate_limit_error", "rate_limit_exceeded"};
    case Errc::kOverloaded:
      return {503, "server_error", "overloaded"};
    case Errc::kBudgetExceeded:
      return {429, "insufficient_quota", "insufficient_quota"};
    case Errc::kUpstreamTimeout:
      return {504, "upstream_error", "upstream_timeout"};
    case Errc::kUpstreamUnavailable:  // 529 is Anthropic's "overloaded": tell clients to back off
      return e.upstream_status == 529 ? Mapping{503, "upstream_error", "upstream_overloaded"}
                                      : Mapping{502, "upstream_error", "upstream_unavailable"};
    case Errc::kUpstreamRejected: {  // 502: our credentials refused, the gateway's failure
      const int status = UpstreamRejectedStatus(e);
      return {status, status == 502 ? "upstream_error" : "invalid_request_error",
              "upstream_rejected"};
    }
    case Errc::kVerificationFailed:
      return {502, "upstream_error", "verification_failed"};
    case Errc::kInternal:
      return {500, "server_error", nullptr};
  }
  return {500, "server_error", nullptr};
}

json::object ErrorObject(const core::Error& e, const Mapping& m) {
  json::object err;
  err["message"] = e.message;
  err["type"] = m.type;
  err["param"] = e.param.empty() ? json::value(nullptr) : json::value(e.param);
  err["code"] = m.code ? json::value(m.code) : json::value(nullptr);
  return err;
}

}  // namespace

api::ErrorResponse EncodeError(const core::Error& error) {
  const Mapping m = MappingFor(error);
  json::object root;
  root["error"] = ErrorObject(error, m);
  return {m.status, json::serialize(root)};
}

std::string EncodeStreamError(const core::Error& error) {
  json::object root;
  root["error"] = ErrorObject(error, MappingFor(error));
  return json::serialize(root);
}

std::string EncodeResponsesStreamError(const core::Error& error, int64_t sequence_number) {
  const Mapping m = MappingFor(error);
  json::object event;
  event["type"] = "error";
  event["code"] = m.code ? json::value(m.code) : json::value(m.type);
  event["message"] = error.message;
  event["param"] = error.param.empty() ? json::value(nullptr) : json::value(error.param);
  event["sequence_number"] = sequence_number;
  return json::serialize(event);
}

}  // namespace sy::api::openai
