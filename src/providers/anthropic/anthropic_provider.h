// The adapter for Anthropic's Messages API: POST {base_url}/messages (base_url like
// "https://api.anthropic.com/v1"; trailing slashes are trimmed) with the headers
// `x-api-key: <key>` (only when a key is configured; never an Authorization header) and
// `anthropic-version: 2023-06-01`.
//
// The body sent is a copy of Call::body (already in the Messages dialect) with `model` set to
// the model's upstream name and `stream` set to whether the client asked for a stream. When
// the body has no `max_tokens` (or a null one), as a request translated from OpenAI that set no
// limit does, the adapter sets it, because Anthropic requires it: to the model's
// max_output_tokens, or to kAnthropicDefaultMaxTokens when the catalog does not know that
// (max_output_tokens == 0).
//
// Answers: a complete Message is kept unchanged, with usage from ParseAnthropicUsage; a stream
// is decoded by AnthropicEventDecoder and ends at message_stop (a body that ends before it
// fails with kUpstreamUnavailable). Errors: a non-2xx answer, or an `error` event in a stream,
// becomes the core::Error its status implies (providers/upstream_error.h), with Anthropic's own
// error message and the retry-after header.
#pragma once

#include <cstdint>
#include <memory>

#include "config/config.h"
#include "providers/provider.h"

namespace sy::providers {

// max_tokens for a request that set none, when the model's max_output_tokens is unknown.
inline constexpr int64_t kAnthropicDefaultMaxTokens = 4096;

// The version of the Messages API the adapter speaks (the anthropic-version header).
inline constexpr const char* kAnthropicVersion = "2023-06-01";

std::unique_ptr<Provider> MakeAnthropicProvider(const config::ProviderConfig& config);

}  // namespace sy::providers
