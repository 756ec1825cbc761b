// api::translate: translation between the client dialects (OpenAI Chat Completions, OpenAI
// Responses, Anthropic Messages), for a client whose request is served by a model whose API
// speaks another one.
//
// Shape: a hub. OpenAI Chat Completions is the hub dialect; every other dialect has one
// translator to the hub and one from it (request, answer and stream each), and a pair of
// non-hub dialects is translated through the hub (Responses -> Chat -> Anthropic). Adding a
// dialect therefore adds six translators, not six per existing dialect. Chat Completions is the
// hub because most upstreams speak it (the common translated case is one hop) and because it can
// express everything the gateway translates; what it cannot express is refused on the way in
// (docs/api.md, the translation table). docs/architecture.md explains the choice.
//
// The gateway keeps each request in the client's dialect (core::Request::body). When the chosen
// model speaks another dialect it translates the request body once (TranslateRequest), then
// translates the answer back: a complete body with TranslateResponse, or a stream event by event
// with a StreamTranslator, which re-frames each upstream event as it arrives and never buffers
// the answer.
//
// Translation is faithful or refused: what the target API cannot express (n > 1, logprobs,
// audio, server tools, ...) fails with kInvalidRequest naming the offending parameter in the
// client's own notation and saying what to do instead. Fields that do not change the answer's
// content (stream_options, seed, cache_control, ...) are dropped; each translator's .cpp lists
// them. Usage blocks shown to the client are always written from core::Usage, the usage the
// provider adapter parsed and the gateway billed, never re-read from the upstream JSON.
//
// Thread-safety: the free functions are pure and safe to call from any thread. A
// StreamTranslator holds one stream's state and is used by one request on one worker.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>
#include <boost/json/storage_ptr.hpp>
#include <boost/json/value.hpp>

#include "api/translate/usage_json.h"
#include "core/error.h"
#include "core/json_depth.h"
#include "core/request.h"
#include "core/result.h"
#include "core/stream_event.h"
#include "core/usage.h"

namespace sy::api::translate {

// --- Request bodies --------------------------------------------------------------------------
// REQUIRES: `body` was validated by the client dialect's decoder (the translators still never
// trust it: a field of an unexpected type is refused, never thrown on).
// The result lacks "model" (the provider adapter sets it) and keeps "stream"; it is allocated
// from `sp` (the default resource when null), which must outlive it.
// Fails with kInvalidRequest, Error::param = the offending path in the client's notation
// (OpenAI: "messages[2].content[0]", Anthropic: "messages.2.content.0") and a message saying
// what cannot be expressed for a model that speaks the other API and what to do instead.
// What the target model accepts beyond its dialect's baseline (from the catalog).
struct TargetModel {
  // Anthropic targets: the model has native structured output (output_config.format). Without
  // it, a JSON-schema or JSON-object answer is asked for as a forced tool whose input is the
  // answer, and the answer is unwrapped from that tool call on the way back.
  bool native_structured_output = true;
};

// `max_json_depth` is the limit the body was accepted under (core::Request::max_json_depth): the
// tool-call arguments (JSON in a string) that the Anthropic request needs as objects may nest
// core::EchoJsonDepth of it.
core::Result<boost::json::object> OpenAiToAnthropicRequest(
    const boost::json::object& body, boost::json::storage_ptr sp = {},
    const TargetModel& target = {}, int64_t max_json_depth = core::kDefaultMaxJsonDepth);
core::Result<boost::json::object> AnthropicToOpenAiRequest(const boost::json::object& body,
                                                           boost::json::storage_ptr sp = {});

// The request in `to`'s dialect, through the hub when neither side is the hub; a copy of `body`
// when the dialects are equal.
core::Result<boost::json::object> TranslateRequest(
    core::Dialect from, core::Dialect to, const boost::json::object& body,
    boost::json::storage_ptr sp = {}, const TargetModel& target = {},
    int64_t max_json_depth = core::kDefaultMaxJsonDepth);

// --- Errors about a parameter --------------------------------------------------------------
// The name `client` gave what `upstream`'s dialect calls `param`, for a request the gateway
// translated from `client` into `upstream` (directly, or through the hub): "stop" is an Anthropic
// client's "stop_sequences", "max_output_tokens" a Chat client's "max_completion_tokens" or
// "max_tokens" (the one `client_body`, the client's request, holds), "text.format.schema" a Chat
// client's "response_format.json_schema.schema". A path is written in the client's notation;
// an index into an array the translator does not map one to one (messages, input) is dropped
// ("messages[3].content" is a Responses client's "input"). A name no table knows, and every
// name when the dialects are equal, is returned unchanged. Tables: param_names.cpp.
std::string ClientParam(core::Dialect client, core::Dialect upstream, std::string_view param,
                        const boost::json::object& client_body);

// error.param renamed by ClientParam; and when the message leads with "'<param>'" (a
// translator's refusal, internal::Unsupported), every "'<param>'" in it, the lead and the
// advice, with it. For errors that name a parameter of the translated request: an upstream's
// (whose message is left as the upstream wrote it), or the second hop's of a translation
// through the hub.
void NameParamForClient(core::Dialect client, core::Dialect upstream,
                        const boost::json::object& client_body, core::Error& error);

// --- Answers ---------------------------------------------------------------------------------
// What the target dialect needs that the upstream answer does not carry.
struct Context {
  int64_t created_unix_s = 0;  // OpenAI's `created`: when the gateway received the request
  // Responses answers: the id the gateway gives the response ("resp_..."), and the client's
  // request, whose parameters a Response object echoes (instructions, tools, text, ...); the
  // request must outlive the translation (a stream translator keeps the pointer).
  std::string response_id;
  const boost::json::object* responses_request = nullptr;
  std::string previous_response_id;  // echoed in the Response object; "" when none
  // Anthropic streams: the input tokens message_start reports before the upstream's own count
  // arrives (the gateway's estimate of the prompt; message_delta then carries the billed usage).
  int64_t input_tokens_estimate = 0;
  // The limit the client's body was accepted under (core::Request::max_json_depth): tool-call
  // arguments in the answer, shaped by the client's schemas, may nest core::EchoJsonDepth of it.
  int64_t max_json_depth = core::kDefaultMaxJsonDepth;
};

// A complete upstream answer (its parsed JSON) in `from` dialect -> the client's body,
// serialized, in `to` dialect. The client's usage block is written from `usage` (the billed
// usage the provider adapter parsed). The upstream body is returned re-serialized unchanged when
// the dialects are equal.
// Fails with kUpstreamUnavailable when the upstream answer is malformed (not an object, no
// choices, a tool call whose arguments are not a JSON object, ...), so failover may try another
// model.
core::Result<std::string> TranslateResponse(core::Dialect from, core::Dialect to,
                                            const boost::json::value& upstream,
                                            const core::Usage& usage, const Context& ctx);

// Re-frames one stream, event by event. Stateful: one per stream, fed the upstream's events in
// order. Never buffers content: every upstream event yields at once the client events it
// implies. A stream that is cut off simply stops: the translator never fabricates stop events.
class StreamTranslator {
 public:
  virtual ~StreamTranslator() = default;
  // Appends to `out` the client-dialect events for one upstream event (possibly none): each with
  // `event` (the SSE name: "" for OpenAI chunks, the type for Anthropic events), `data` (the
  // serialized JSON, or "[DONE]"), `json` (null for "[DONE]") and `terminal` on the dialect's
  // last event. The upstream event's `usage` (set by the provider on its usage-bearing event)
  // is carried to the client event that carries usage (OpenAI: the usage chunk; Anthropic:
  // message_delta), whose usage JSON is written from core::Usage.
  // Fails with kUpstreamUnavailable on an upstream event that cannot be re-framed (malformed,
  // out of order, an interleaved tool-call fragment, or an Anthropic `error` event); the stream
  // must then be ended. Events fed after the dialect's end ([DONE], message_stop) yield nothing.
  virtual core::Status Feed(const core::StreamEvent& upstream,
                            std::vector<core::StreamEvent>& out) = 0;
};

// The translator for a stream from `from` (the upstream) to `to` (the client); with equal
// dialects, one that passes events through unchanged.
std::unique_ptr<StreamTranslator> MakeStreamTranslator(core::Dialect from, core::Dialect to,
                                                       const Context& ctx);

}  // namespace sy::api::translate
