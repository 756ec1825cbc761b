// The OpenAI dialect's error table: core::Errc -> HTTP status and OpenAI's error body
// {"error":{"message","type","param","code"}}. The one place this mapping lives.
#pragma once

#include <string>

#include "api/error_response.h"
#include "core/error.h"

namespace sy::api::openai {

api::ErrorResponse EncodeError(const core::Error& error);

// The same error as one stream chunk payload, for failures after a stream has started.
std::string EncodeStreamError(const core::Error& error);

}  // namespace sy::api::openai
