// Turning an upstream's non-2xx answer into a core::Error, shared by the adapters: statuses map
// to protocol-neutral codes here once; each adapter only extracts its dialect's message.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "core/error.h"
#include "core/secrets.h"
#include "http/headers.h"

namespace sy::providers {

inline constexpr size_t kMaxUpstreamMessageBytes = 512;
inline constexpr size_t kMaxUpstreamDetailBytes = 2048;

// `message` is the upstream's own error message when it sent one (it is about the request, so
// it is shown to the client), else "". Reads retry-after / retry-after-ms from `headers`.
// Upstream text is untrusted: `message` and `raw_body` are scrubbed of `secrets` (the adapter
// passes its own provider's key, which a provider may echo) and then cut on a UTF-8 boundary,
// to kMaxUpstreamMessageBytes and kMaxUpstreamDetailBytes, with "..." marking a cut. Scrubbing
// comes first, so a cut never leaves a fragment of a key. 401/403 messages are replaced.
// `param`, the parameter the upstream said its error is about ("" when none), becomes
// Error::param in the upstream's notation (the API edge renames it for a client of another
// dialect), scrubbed and clipped like every echo, and dropped on 401/403 with the message.
core::Error UpstreamError(int status, const http::Headers& headers, std::string_view provider,
                          std::string_view message, std::string_view raw_body,
                          const core::SecretScrubber& secrets, std::string_view param = {});

// `text` cut to at most `max_bytes` bytes without splitting a UTF-8 sequence, "..." appended
// (within the bound) when anything was cut.
std::string CutUtf8(std::string_view text, size_t max_bytes);

// The HTTP status an OpenAI failure that arrives without one stands for: an error chunk of a Chat
// Completions stream, a Responses stream's `error` or `response.failed` event, or a Response
// answered with 200 and status "failed". `type` and `code` are the error object's fields ("" when
// absent). Judged as the same error in a response head would be: a refused request (an invalid
// prompt, a context too long, an image the model cannot read) goes back to the client as a 400
// instead of failing over to the next model; a rate limit is a 429; the rest, and what this table
// does not know, a retryable 500 (503 for an overloaded server). Codes come from OpenAI's error
// codes guide and the Responses API's ResponseError.code.
int OpenAiFailureStatus(std::string_view type, std::string_view code);

// The HTTP status Anthropic documents for an error `type` ("overloaded_error": 529), for an
// error that arrives without one: an `error` event of a stream, an error body answered with 200.
// A type this table does not know yet is a retryable 500.
int AnthropicFailureStatus(std::string_view type);

// Malformed answers (bad JSON, broken streams) count as the upstream being unavailable.
core::Error MalformedUpstream(std::string_view provider, std::string_view what);

}  // namespace sy::providers
