#include "core/error.h"

namespace sy::core {

std::string_view ErrcName(Errc code) {
  switch (code) {
    case Errc::kInvalidRequest:
      return "invalid_request";
    case Errc::kUnauthenticated:
      return "unauthenticated";
    case Errc::kForbidden:
      return "forbidden";
    case Errc::kNotFound:
      return "not_found";
    case Errc::kMethodNotAllowed:
      return "method_not_allowed";
    case Errc::kPayloadTooLarge:
      return "payload_too_large";
    case Errc::kRequestTimeout:
      return "request_timeout";
    case Errc::kRateLimited:
      return "rate_limited";
    case Errc::kOverloaded:
      return "overloaded";
    case Errc::kBudgetExceeded:
      return "budget_exceeded";
    case Errc::kUpstreamTimeout:
      return "upstream_timeout";
    case Errc::kUpstreamUnavailable:
      return "upstream_unavailable";
    case Errc::kUpstreamRejected:
      return "upstream_rejected";
    case Errc::kVerificationFailed:
      return "verification_failed";
    case Errc::kInternal:
      return "internal";
  }
  return "internal";
}

}  // namespace sy::core
