// Decoding of OpenAI Responses API stream events and of the Responses usage block: pure
// functions from one SSE event to a core::StreamEvent, used by the Responses adapter's stream
// and testable without I/O.
//
// A Responses stream is a sequence of typed events, each an SSE event whose name equals the
// data's "type" (response.created, response.output_text.delta, ...). It ends with exactly one
// of response.completed, response.incomplete (both carry the whole Response, usage included),
// response.failed, or an `error` event.
//
// Thread-safety: pure.
#pragma once

#include <optional>
#include <string_view>

#include <boost/json/value.hpp>

#include "core/result.h"
#include "core/secrets.h"
#include "core/stream_event.h"
#include "core/usage.h"
#include "http/sse.h"

namespace sy::providers {

// Reads the Responses usage block ({input_tokens, input_tokens_details.cached_tokens,
// output_tokens, output_tokens_details.reasoning_tokens}); input_tokens counts cached tokens,
// output_tokens reasoning tokens, as core::Usage does. A block whose input or output count is
// missing or not a count (detail::Billable) is no reported usage (`reported` false: the gateway
// estimates it); a details counter that cannot be read counts 0. nullopt when `usage` is not an
// object.
std::optional<core::Usage> ParseResponsesUsage(const boost::json::value& usage);

// The upstream's message when a Response object (or a complete answer's body) reports a failure:
// status "failed" (response.error.message) or a non-null "error" object; nullopt otherwise.
// An empty message is returned as "" (the failure still counts).
std::optional<std::string_view> ResponsesFailureOf(const boost::json::value& body);

// The status such a failure stands for, from its error object's code (OpenAiFailureStatus in
// providers/upstream_error.h): a refused prompt 400, a rate limit 429, else a retryable 500.
int ResponsesFailureStatus(const boost::json::value& body);

// One SSE event of a Responses stream:
//  - response.completed / response.incomplete: terminal, usage = ParseResponsesUsage(
//    response.usage) when present.
//  - response.failed: fails with UpstreamError(500, ...), response.error.message and
//    response.error.param (which OpenAI's ResponseError does not document; read as in an error
//    body, detail::ErrorParamOf, when an upstream sends one).
//  - error: fails with UpstreamError(500, ...), the event's message and its param.
//  - any other typed event: passed through (OpenAI adds event types; clients ignore unknown ones).
//  - data that is not a JSON object, or whose "type" is missing or differs from a non-empty SSE
//    event name -> MalformedUpstream. (An SSE event without a name is accepted: the name is
//    optional on the wire and the data's type is authoritative.)
// `provider` names the provider in error messages; `secrets` are scrubbed from an error's text.
// Every decoded event keeps `data` as sent, `event` = the data's type, and the parsed json.
// An event may nest core::EchoJsonDepth(max_json_depth) levels (pass the request's
// core::Request::max_json_depth): response.created and response.completed echo the request's
// tools and text.format schema, so they nest as deep as the client's body and a little more.
core::Result<core::StreamEvent> DecodeResponsesEvent(http::SseEvent sse, std::string_view provider,
                                                     const core::SecretScrubber& secrets,
                                                     int64_t max_json_depth);

}  // namespace sy::providers
