// Usage blocks written from core::Usage (the billed usage) in each dialect's shape.
//
// Thread-safety: pure functions.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/storage_ptr.hpp>

#include "core/usage.h"

namespace sy::api::translate {

// OpenAI: {prompt_tokens, completion_tokens, total_tokens, prompt_tokens_details:
// {cached_tokens}, completion_tokens_details:{reasoning_tokens}}. prompt_tokens counts every
// input token, cache reads and writes included (OpenAI has no field for cache writes).
boost::json::object OpenAiUsageJson(const core::Usage& usage, boost::json::storage_ptr sp = {});

// Anthropic: {input_tokens, cache_creation_input_tokens, cache_read_input_tokens,
// output_tokens}, where input_tokens counts only the uncached input (input - cache reads -
// cache writes, never below 0), as Anthropic's own usage block does.
boost::json::object AnthropicUsageJson(const core::Usage& usage, boost::json::storage_ptr sp = {});

// OpenAI Responses: {input_tokens, input_tokens_details:{cached_tokens}, output_tokens,
// output_tokens_details:{reasoning_tokens}, total_tokens}; input_tokens counts every input token,
// cache reads and writes included, as prompt_tokens does.
boost::json::object ResponsesUsageJson(const core::Usage& usage, boost::json::storage_ptr sp = {});

}  // namespace sy::api::translate
