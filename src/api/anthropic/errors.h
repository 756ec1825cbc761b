// The Anthropic dialect's error table: core::Errc -> HTTP status and Anthropic's error body
// {"type":"error","error":{"type","message"}}. The one place this mapping lives.
//
// Anthropic's body has no param field, so Error::param, when set, leads the message
// ("messages.0.role: ..."), as Anthropic's own validation errors do.
//
// Thread-safety: pure functions.
#pragma once

#include <string>

#include "api/error_response.h"
#include "core/error.h"

namespace sy::api::anthropic {

api::ErrorResponse EncodeError(const core::Error& error);

// The same JSON, as the data of an SSE `event: error`, for failures after a stream has started.
std::string EncodeStreamError(const core::Error& error);

}  // namespace sy::api::anthropic
