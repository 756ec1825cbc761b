// The OpenAI dialect's error table: core::Errc -> HTTP status and OpenAI's error body
// {"error":{"message","type","param","code"}}. The one place this mapping lives.
#pragma once

#include <cstdint>
#include <string>

#include "api/error_response.h"
#include "core/error.h"

namespace sy::api::openai {

api::ErrorResponse EncodeError(const core::Error& error);

// The same error as one stream chunk payload, for failures after a stream has started.
std::string EncodeStreamError(const core::Error& error);

// The Responses API's `error` stream event ({"type":"error","code","message","param",
// "sequence_number"}); `code` is the table's code, else its type, so it is never null.
std::string EncodeResponsesStreamError(const core::Error& error, int64_t sequence_number);

}  // namespace sy::api::openai
