// Decoding and validating a client's OpenAI Chat Completions request.
//
// Validation covers what the gateway relies on and what is cheap to check (types of the known
// fields, messages, roles, stream options); everything else is passed through untouched, so
// new OpenAI parameters work without a gateway release.
#pragma once

#include <cstdint>
#include <string_view>

#include <boost/json/value.hpp>

#include "core/request.h"
#include "core/result.h"

namespace sy::api::openai {

// Parses JSON with a nesting limit; fails with kInvalidRequest ("... is not valid JSON",
// "... nested deeper than N levels", invalid UTF-8 included).
// The DOM is allocated from `storage`.
core::Result<boost::json::value> ParseJson(std::string_view body, int64_t max_depth,
                                           boost::json::storage_ptr storage = {});

// Fills `out` (dialect, model, stream, include_usage, body) from a /v1/chat/completions body.
// Fails with kInvalidRequest naming the offending parameter in Error::param.
core::Status DecodeChatRequest(std::string_view body, int64_t max_depth, core::Request& out);

}  // namespace sy::api::openai
