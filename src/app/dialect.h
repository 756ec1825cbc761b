// The client-dialect pieces of the request path, dispatched in one place: which dialect a
// request speaks, its error bodies, its stream error frames and what marks its first token.
// Adding a dialect means adding a case here and an api/<dialect>/ folder.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "api/error_response.h"
#include "core/error.h"
#include "core/request.h"
#include "core/result.h"
#include "core/stream_event.h"
#include "http/server.h"

namespace sy::app {

// By endpoint (/v1/messages is Anthropic's, /v1/chat/completions and /v1/responses OpenAI's);
// elsewhere (the model
// list, unknown paths) by the anthropic-version header every Anthropic SDK sends.
core::Dialect ClientDialect(const http::ServerRequest& request);

// Decodes a generation request's body in out.dialect (the dialect's decoder: validated, parsed
// into out.body's arena). Fails with the decoder's kInvalidRequest naming the parameter.
core::Status DecodeClientRequest(std::string_view body, int64_t max_json_depth, core::Request& out);

api::ErrorResponse EncodeError(core::Dialect dialect, const core::Error& error);

// The complete SSE frame that ends a stream failing after its first byte. `sequence_number` is
// the number of events already sent (Responses numbers its events from 0).
std::string StreamErrorFrame(core::Dialect dialect, const core::Error& error,
                             int64_t sequence_number);

// True when a client-dialect event carries generated content (text or a tool call): the
// first one marks the time to first token. This and GeneratedBytes take event.generated when
// the event's decoder set it, and read the event's DOM otherwise.
bool CarriesContent(core::Dialect dialect, const core::StreamEvent& event);

// The bytes of generated text, reasoning and tool-call arguments a client-dialect event carries
// (0 for events without any): what the relay counts when it has to estimate output tokens.
size_t GeneratedBytes(core::Dialect dialect, const core::StreamEvent& event);

// The usage object of a client-dialect event that carries the final usage (Anthropic's
// message_delta, Responses' response.completed / response.incomplete), to add the cost to; null
// for other events and for OpenAI Chat chunks (the relay frames those itself).
boost::json::object* UsageObject(core::Dialect dialect, boost::json::value& event);

// The Response object a Responses stream ends with (response.completed or response.incomplete),
// null for any other event or dialect.
const boost::json::object* FinalResponse(core::Dialect dialect, const core::StreamEvent& event);

}  // namespace sy::app
