// core::Error and core::Errc: the protocol-neutral failure vocabulary of Switchyard.
//
// Every expected failure inside the gateway is an Error value. The API edge maps Errc to the
// client dialect's HTTP status and error body once (api/<dialect>/errors.cpp); failover decides
// retryability from Errc in one place (failover::IsRetryable).
//
// Thread-safety: plain values; safe to copy and move between threads.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "core/text.h"

namespace sy::core {

enum class Errc {
  kInvalidRequest,       // the client sent something malformed or unsupported
  kUnauthenticated,      // missing or unknown credentials
  kForbidden,            // known caller, not allowed
  kNotFound,             // unknown model, route or resource
  kMethodNotAllowed,     // a known endpoint, another method: 405 with Error::allow
  kPayloadTooLarge,      // body or headers over their limits
  kRequestTimeout,       // the client was too slow sending its request
  kRateLimited,          // an upstream (or we) said 429 / overloaded
  kOverloaded,           // the gateway itself is at a limit (connections, buffered bodies) or
                         // shutting down: 503, retry later
  kBudgetExceeded,       // spend limit reached
  kUpstreamTimeout,      // an upstream did not answer in time
  kUpstreamUnavailable,  // connection refused/reset, 5xx, malformed upstream answer
  kUpstreamRejected,     // the upstream refused the request itself (4xx other than 429)
  kVerificationFailed,   // the answer failed verification
  kInternal,             // a bug or an environment failure on our side
};

// Stable snake_case name of a code, for logs, the ledger and response headers.
std::string_view ErrcName(Errc code);

struct Error {
  Errc code = Errc::kInternal;
  // Says what to fix; safe to show to the client. Never contains secrets.
  std::string message;
  // Set when the failure came with a retry hint (retry-after).
  std::optional<std::chrono::milliseconds> retry_after;
  // Upstream HTTP status when the failure came from an upstream answer, else 0.
  int upstream_status = 0;
  // Raw upstream detail (a truncated error body): logged, not shown to clients.
  std::string upstream_detail;
  // JSON path or parameter name the message is about, when there is one ("messages[2].role").
  std::string param;
  // For metrics' labels, never shown: a static word for why a refusal was made ("revoked",
  // "tokens", "budget_month"), so that no label depends on the message's wording or on the
  // names it quotes. Empty when the producer did not say.
  std::string_view reason;
  // kMethodNotAllowed: the methods the endpoint takes, as the Allow header lists them ("GET,
  // HEAD"). RFC 9110 §15.5.6: a 405 carries it.
  std::string allow;
};

inline Error MakeError(Errc code, std::string message) {
  Error e;
  e.code = code;
  e.message = std::move(message);
  return e;
}

// A kMethodNotAllowed for a request to `path` (clipped here) by another method than `allow`.
inline Error MethodNotAllowed(std::string_view path, std::string allow) {
  Error e = MakeError(Errc::kMethodNotAllowed, "Use " + allow + " for " + ClipForEcho(path) + ".");
  e.allow = std::move(allow);
  return e;
}

// A kInvalidRequest about one parameter or field, named in Error::param. A param built from a
// client's key (an unknown parameter) is clipped like every echo (ClipForEcho): dialects show it
// to the client, Anthropic's in the message once more. The message's own fragments of client
// text are the caller's to clip.
inline Error InvalidParam(std::string param, std::string message) {
  Error e = MakeError(Errc::kInvalidRequest, std::move(message));
  e.param = std::move(param);
  ClipInPlace(e.param, kMaxEchoBytes);
  return e;
}

}  // namespace sy::core
