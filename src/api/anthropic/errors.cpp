#include "api/anthropic/errors.h"

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

namespace sy::api::anthropic {
namespace {

namespace json = boost::json;

struct Mapping {
  int status;
  const char* type;
};

// An upstream's verdict on the request, typed by the status the client gets as Anthropic types
// its own (docs.claude.com/en/api/errors): invalid_request_error covers the 4xx it lists no
// type for. A 502 (the upstream refused our credentials, or gave no status) is no verdict on the
// client's request: api_error, Anthropic's type for a failure inside its own systems, as every
// other 502 of this table.
Mapping RejectedMapping(const core::Error& e) {
  const int status = UpstreamRejectedStatus(e);
  if (status == 502) return {status, "api_error"};
  if (status == 404) return {status, "not_found_error"};
  if (status == 413) return {status, "request_too_large"};
  return {status, "invalid_request_error"};
}

Mapping MappingFor(const core::Error& e) {
  using core::Errc;
  switch (e.code) {
    case Errc::kInvalidRequest:
      return {400, "invalid_request_error"};
    case Errc::kUnauthenticated:
      return {401, "authentication_error"};
    case Errc::kForbidden:
      return {403, "permission_error"};
    case Errc::kNotFound:
      return {404, "not_found_error"};
    case Errc::kMethodNotAllowed:
      return {405, "invalid_request_error"};
    case Errc::kPayloadTooLarge:
      return {e.param == "headers" ? 431 : 413, "request_too_large"};
    case Errc::kRequestTimeout:
      return {408, "timeout_error"};
    case Errc::kOverloaded:
      return {503, "overloaded_error"};
    case Errc::kRateLimited:
    case Errc::kBudgetExceeded:  // Anthropic has no quota type; the message tells them apart
      return {429, "rate_limit_error"};
    case Errc::kUpstreamTimeout:
      return {504, "timeout_error"};
    case Errc::kUpstreamUnavailable:  // pass an upstream's "overloaded" on, so SDKs back off
      return e.upstream_status == 529 ? Mapping{529, "overloaded_error"}
                                      : Mapping{502, "api_error"};
    case Errc::kUpstreamRejected:
      return RejectedMapping(e);
    case Errc::kVerificationFailed:
      return {502, "api_error"};
    case Errc::kInternal:
      return {500, "api_error"};
  }
  return {500, "api_error"};
}

// Led by the param unless the message already is, or quotes an Anthropic upstream's message
// that is ("provider p answered 400: max_tokens: Field required"). A translator's refusal leads
// with the quoted param ("'stop_sequences': ..."): that lead becomes Anthropic's, said once.
std::string MessageFor(const core::Error& e) {
  if (e.param.empty() || e.message.rfind(e.param, 0) == 0 ||
      e.message.find(": " + e.param + ": ") != std::string::npos) {
    return e.message;
  }
  const std::string quoted = "'" + e.param + "': ";
  if (e.message.rfind(quoted, 0) == 0) return e.param + ": " + e.message.substr(quoted.size());
  return e.param + ": " + e.message;
}

std::string Body(const core::Error& e, const Mapping& m) {
  json::object error;
  error["type"] = m.type;
  error["message"] = MessageFor(e);
  json::object root;
  root["type"] = "error";
  root["error"] = std::move(error);
  return json::serialize(root);
}

}  // namespace

api::ErrorResponse EncodeError(const core::Error& error) {
  const Mapping m = MappingFor(error);
  return {m.status, Body(error, m)};
}

std::string EncodeStreamError(const core::Error& error) { return Body(error, MappingFor(error)); }

}  // namespace sy::api::anthropic
