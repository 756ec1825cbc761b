// Decoding and validating a client's OpenAI Chat Completions request.
//
// Validation covers what the gateway relies on and what is cheap to check (types of the known
// fields, messages, roles, stream options); everything else is passed through untouched, so
// new OpenAI parameters work without a gateway release.
#pragma once

#include <cstdint>
#include <string_view>

#include "core/request.h"
#include "core/result.h"

namespace sy::api::openai {

// Fills `out` (dialect, model, stream, include_usage, body, max_json_depth = max_depth) from a
// /v1/chat/completions body. Fails with kInvalidRequest naming the offending parameter in
// Error::param (empty when the body is not a JSON object; see api::ParseJson).
core::Status DecodeChatRequest(std::string_view body, int64_t max_depth, core::Request& out);

}  // namespace sy::api::openai
