// api::ErrorResponse: a failure encoded for one client dialect, ready to send; and the rules every
// dialect's error table (api/<dialect>/errors.cpp) shares.
//
// Thread-safety: plain values and pure functions.
#pragma once

#include <string>

#include "core/error.h"

namespace sy::api {

struct ErrorResponse {
  int status = 500;
  std::string body;  // JSON, in the client's dialect
};

// The HTTP status a kUpstreamRejected error keeps: the upstream's own 4xx when it judged the
// request itself, so the client can fix it; else 502. An upstream 401/403 is about the gateway's
// credentials, never the client's, so it must not reach the client as its own fault.
inline int UpstreamRejectedStatus(const core::Error& error) {
  const int s = error.upstream_status;
  const bool client_fault = s >= 400 && s < 500 && s != 401 && s != 403;
  return client_fault ? s : 502;
}

}  // namespace sy::api
