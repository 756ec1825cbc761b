// Decoding and validating a client's Anthropic Messages request (POST /v1/messages).
//
// Validation covers what the gateway relies on and what is cheap to check: the required fields,
// the types of the known ones, message roles, and the fields of the content blocks the dialect
// translator reads (text, image, tool_use, tool_result). Other block types (document, thinking,
// search_result, server tool blocks...), server tools and unknown top-level fields pass through
// untouched, so new Anthropic features work without a gateway release. An optional field whose
// value is null counts as absent.
//
// Error messages read like Anthropic's own validation errors, "<path>: <what is wrong>", with the
// path in Anthropic's dotted notation ("messages.2.content.0.source"), e.g.
// "max_tokens: Field required", "messages.0.role: Input should be 'user' or 'assistant'".
//
// Thread-safety: a pure function; safe to call from any thread.
#pragma once

#include <cstdint>
#include <string_view>

#include "core/request.h"
#include "core/result.h"

namespace sy::api::anthropic {

// Fills `out` from a POST /v1/messages body: dialect = kAnthropicMessages, model, stream,
// include_usage = true (Anthropic streams always carry usage), max_json_depth = max_depth and
// body, which is parsed into out.body.storage() (at most `max_depth` levels deep) so moving it in
// copies nothing.
// Fails with kInvalidRequest, Error::param = the offending path ("" when the body is not a JSON
// object; see api::ParseJson); `out`'s fields are then left unchanged.
core::Status DecodeMessagesRequest(std::string_view body, int64_t max_depth, core::Request& out);

// The same for a POST /v1/messages/count_tokens body: the prompt fields (model, messages, system,
// tools, tool_choice) are checked; max_tokens is not required.
core::Status DecodeCountTokensRequest(std::string_view body, int64_t max_depth, core::Request& out);

}  // namespace sy::api::anthropic
