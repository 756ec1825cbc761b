// Reading what a Messages request asks for (core::Prompt), for routing.
//
// The reader knows the wire format so routing never has to. It copies no text: every
// core::PromptText views a string inside `body`, which must outlive the returned prompt.
//
// Defensive by design: `body` has passed DecodeMessagesRequest, but anything of an unexpected
// type is skipped; the reader never throws and never fails (an odd body gives a sparser prompt).
// Thread-safety: a pure function.
#pragma once

#include <cstddef>

#include <boost/json/object.hpp>

#include "core/prompt.h"

namespace sy::api::anthropic {

// Reads a /v1/messages body:
//  - `system` (a string or text blocks) and system-role messages become kSystem texts
//    (turn -1), listed first; PromptText::turn is a message's index in `messages`;
//  - content is a string or blocks: text blocks are texts; image blocks count as images;
//    a document with a text source is a user text, any other document counts as a document;
//    tool_use (and server_tool_use) sets tool_calls; tool_result content (a string or text
//    blocks) becomes kTool texts and sets tool_results;
//  - a user message counts as a user turn unless it carries only tool results;
//  - tools count as offered unless tool_choice is {type: none}; tool_choice any or tool sets
//    tool_required, and tool makes the output kForcedTool;
//  - max_tokens is the output cap; metadata.user_id, when a string, is kept as metadata.
// `body_bytes` is the size of the body as received.
core::Prompt ReadMessagesPrompt(const boost::json::object& body, size_t body_bytes);

}  // namespace sy::api::anthropic
