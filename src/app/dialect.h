// The client-dialect pieces of the request path, dispatched in one place: which dialect a
// request speaks, its error bodies, its stream error frames and what marks its first token.
// Adding a dialect means adding a case here and an api/<dialect>/ folder.
#pragma once

#include <string>

#include "api/error_response.h"
#include "core/error.h"
#include "core/request.h"
#include "core/stream_event.h"
#include "http/server.h"

namespace sy::app {

// By endpoint (/v1/messages is Anthropic's, /v1/chat/completions and /v1/responses OpenAI's);
// elsewhere (the model
// list, unknown paths) by the anthropic-version header every Anthropic SDK sends.
core::Dialect ClientDialect(const http::ServerRequest& request);

api::ErrorResponse EncodeError(core::Dialect dialect, const core::Error& error);

// The complete SSE frame that ends a stream failing after its first byte. `sequence_number` is
// the number of events already sent (Responses numbers its events from 0).
std::string StreamErrorFrame(core::Dialect dialect, const core::Error& error,
                             int64_t sequence_number);

// True when a client-dialect event carries generated content (text or a tool call): the
// first one marks the time to first token.
bool CarriesContent(core::Dialect dialect, const core::StreamEvent& event);

// The bytes of generated text, reasoning and tool-call arguments a client-dialect event carries
// (0 for events without any): what the relay counts when it has to estimate output tokens.
size_t GeneratedBytes(core::Dialect dialect, const core::StreamEvent& event);

}  // namespace sy::app
