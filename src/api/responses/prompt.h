// Reading what a Responses request asks for (core::Prompt), for routing.
//
// The reader knows the wire format so routing never has to. It copies no text: every
// core::PromptText views a string inside `body`, which must outlive the returned prompt.
//
// Defensive by design: `body` has passed DecodeResponsesRequest, but anything of an unexpected
// type is skipped; the reader never throws and never fails (an odd body gives a sparser prompt).
// Thread-safety: a pure function.
#pragma once

#include <cstddef>

#include <boost/json/object.hpp>

#include "core/prompt.h"

namespace sy::api::responses {

// Reads a /v1/responses body:
//  - `instructions`, then system and developer message items, become kSystem texts (turn -1),
//    listed first;
//  - `input` as a string is one user message; otherwise each message, function_call and
//    function_call_output item is a message of the conversation (PromptText::turn is its index,
//    system/developer not counted); consecutive function_call items count as one assistant
//    message, as the Chat translation sends them;
//  - input_text/output_text/refusal parts are texts, input_image parts count as images,
//    input_file parts as documents; function_call sets tool_calls, function_call_output sets
//    tool_results (a string output is a kTool text);
//  - tools count as offered unless tool_choice is "none"; "required" or a named function sets
//    tool_required, and a named function makes the output kForcedTool; text.format
//    json_object/json_schema sets the output; max_output_tokens is the cap; metadata keeps
//    string values.
// `body_bytes` is the size of the body as received.
core::Prompt ReadResponsesPrompt(const boost::json::object& body, size_t body_bytes);

}  // namespace sy::api::responses
