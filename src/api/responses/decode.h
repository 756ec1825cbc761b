// Decoding and validating a client's OpenAI Responses request (POST /v1/responses).
//
// Validation covers what the gateway relies on and what is cheap to check: the types of the known
// fields, the input items and their content parts, tools, tool_choice, text.format, the number
// ranges and the metadata limits OpenAI enforces. Everything else (unknown top-level fields)
// passes through untouched, as the Chat Completions decoder does. Errors are worded as OpenAI
// words them and name the parameter in Responses notation ("input[3].type", "text.format.schema").
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string_view>

#include <boost/json/array.hpp>

#include "core/request.h"
#include "core/result.h"

namespace sy::api::responses {

// Fills `out` (dialect kOpenAiResponses, model, stream, body, max_json_depth = max_depth;
// include_usage is false: a Responses stream always ends with the usage in response.completed)
// from a /v1/responses body. The body is parsed into out.body's arena.
// Fails with kInvalidRequest naming the offending parameter in Error::param (empty when the body
// is not a JSON object; see api::ParseJson). Reasoning input items are accepted here (the
// translation to a model that cannot take them refuses them).
core::Status DecodeResponsesRequest(std::string_view body, int64_t max_depth, core::Request& out);

// Every function_call_output item's call_id matches a function_call item earlier in `input`.
// Separate from decoding because the gateway runs it after expanding previous_response_id (the
// call may be in a stored earlier turn).
// Fails with kInvalidRequest, param "input[i].call_id": "No tool call found for function call
// output with call_id ...".
core::Status CheckFunctionCallOutputs(const boost::json::array& input);

}  // namespace sy::api::responses
