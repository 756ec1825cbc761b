// Turning an upstream's non-2xx answer into a core::Error, shared by the adapters: statuses map
// to protocol-neutral codes here once; each adapter only extracts its dialect's message.
#pragma once

#include <string>
#include <string_view>

#include "core/error.h"
#include "http/headers.h"

namespace sy::providers {

// `message` is the upstream's own error message when it sent one (safe to show: it is about
// the request), else "". Reads retry-after / retry-after-ms from `headers`.
core::Error UpstreamError(int status, const http::Headers& headers, std::string_view provider,
                          std::string message, std::string_view raw_body);

// Malformed answers (bad JSON, broken streams) count as the upstream being unavailable.
core::Error MalformedUpstream(std::string_view provider, std::string_view what);

}  // namespace sy::providers
