// Route: turns one request into a planned Reply: the control API under /_emulator/, the
// OpenAI dialect for POST .../chat/completions and .../responses, the Anthropic dialect for
// POST .../messages and .../messages/count_tokens,
// and a 404 in the dialect the request looks like otherwise. Dialect requests are recorded in
// the request log (control requests are not).
//
// Route never throws: an unexpected exception becomes a 500 in the request's dialect.
// Thread-safety: stateless; `state` is thread-safe.
#pragma once

#include <string_view>

#include "emulator/http_message.h"
#include "emulator/state.h"

namespace sy::emulator {

enum class Dialect { kOpenAi, kAnthropic };

// The dialect a request speaks, judged by its path and headers.
Dialect DialectOf(std::string_view path, const HttpRequest& request);

Reply Route(const HttpRequest& request, State& state);

// An error the connection raises itself (body too large, unreadable request), in the dialect
// the request looks like. `request` may be partly filled (method, target, headers).
Reply TransportError(const HttpRequest& request, int status, std::string_view message);

}  // namespace sy::emulator
