// Reading what a Chat Completions request asks for (core::Prompt), for routing.
//
// The reader knows the wire format so routing never has to. It copies no text: every
// core::PromptText views a string inside `body`, which must outlive the returned prompt.
//
// Defensive by design: `body` has passed DecodeChatRequest, but anything of an unexpected type
// is skipped; the reader never throws and never fails (an odd body gives a sparser prompt).
// Thread-safety: a pure function.
#pragma once

#include <cstddef>

#include <boost/json/object.hpp>

#include "core/prompt.h"

namespace sy::api::openai {

// Reads a /v1/chat/completions body:
//  - system and developer messages become kSystem texts (turn -1), listed first;
//  - the other messages are the conversation; PromptText::turn is a message's index in it
//    (system and developer messages not counted); user, assistant, tool and function roles map
//    to kUser, kAssistant, kTool, kTool;
//  - content is a string or parts: text parts are texts, image_url parts count as images, file
//    parts as documents, input_audio is ignored;
//  - assistant tool_calls (or the legacy function_call) set tool_calls; tool/function messages
//    set tool_results;
//  - tools (and legacy functions) count as offered unless tool_choice is "none";
//    tool_choice "required" or a named function sets tool_required, and a named function makes
//    the output kForcedTool; response_format json_object/json_schema sets the output;
//  - max_completion_tokens, else max_tokens, is the output cap; metadata keeps string values.
// `body_bytes` is the size of the body as received.
core::Prompt ReadChatPrompt(const boost::json::object& body, size_t body_bytes);

}  // namespace sy::api::openai
