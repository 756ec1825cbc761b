// The Anthropic Messages dialect of the emulator, written from Anthropic's public API reference
// (it shares no code with providers/): POST <any prefix>/messages, JSON or SSE answers, and
// Anthropic-shaped errors with a request-id header.
//
// Validation order: 401 authentication_error without an API key, sent as x-api-key or as
// "Authorization: Bearer" (as @anthropic-ai/sdk 1.x sends it; any key is accepted); 400
// invalid_request_error without the anthropic-version header, for a body that is not a JSON
// object, or a missing / invalid model, max_tokens or messages. Then registered faults for the
// body's model strike, then the answer is generated (see completion.h) and paced by the model's
// latency profile. Blocks carrying cache_control (tools, system blocks, message blocks, or a
// top-level cache_control for the whole prompt) are prompt-cache breakpoints (prompt_cache.h).
// Extended thinking is not emulated: `thinking` is accepted and ignored. Structured outputs:
// `output_config.format` (or the beta's top-level `output_format`) must be {"type":
// "json_schema", "schema": {...}} (else 400); the text block is then JSON valid for the schema.
//
// Thread-safety: stateless functions; `state` is thread-safe.
#pragma once

#include <string_view>

#include "emulator/faults.h"
#include "emulator/http_message.h"
#include "emulator/state.h"

namespace sy::emulator {

Reply HandleAnthropicMessages(const HttpRequest& request, State& state);

// POST .../messages/count_tokens: the same authentication and body checks as /messages (without
// max_tokens), answered {"input_tokens": N} with the prompt count of prompt_tokens.h (what
// /messages reports as input + cache tokens). Faults do not strike here: they are meant for the
// model's answers.
Reply HandleAnthropicCountTokens(const HttpRequest& request, State& state);

// {"type": "error", "error": {"type", "message"}, "request_id"} with a request-id header.
Reply AnthropicError(int status, std::string_view type, std::string_view message);
// The error type Anthropic uses for an HTTP status.
std::string_view AnthropicErrorType(int status);

// The reply of a status fault, with retry-after and anthropic-ratelimit-* headers for 429.
Reply AnthropicFaultReply(const Fault& fault);

}  // namespace sy::emulator
