// Bad output: the content of an answer struck by a bad_output fault (faults.h). The answer stays
// a well-formed wire answer (status 200, envelope, ids, usage, SSE framing); only what the model
// "says" fails a check, so a gateway's verification (JSON, schema, refusal, grounding) can be
// tested end to end. The rewrite happens on the dialect-neutral GeneratedChoice, so the three
// wire formats, JSON and SSE alike, carry the same content.
//
// What each output puts where:
//   - invalid_json: text that does not parse. With a JSON schema (structured output, or a tool
//     call's arguments) it is the schema-conforming JSON cut in half at a token boundary, as a
//     model cut off mid-answer writes it; otherwise kCutJsonText. A tool call keeps its name
//     and gets the cut text as arguments (Chat `function.arguments`, Responses `arguments`,
//     Anthropic SSE `input_json_delta` pieces whose concatenation does not parse, as the API
//     forwards unvalidated tool tokens with fine-grained tool streaming). The Anthropic Message
//     JSON carries tool input as a parsed object, so there the model writes its JSON as a text
//     block instead of calling the tool (stop_reason end_turn): see ToolCallsToText.
//   - schema_violation: valid JSON that violates the schema (BreakSchema); for tool calls, every
//     call's arguments violate that tool's schema (finish stays tool_calls / tool_use). Without
//     a schema (plain text or json_object format): kUnexpectedJsonText as text.
//   - empty: "" as text, finish end_turn / stop, no reasoning, 0 output tokens.
//   - refusal: kRefusalText, finish Finish::kRefusal. Chat: message.refusal set, content null
//     (streams: delta.refusal), finish_reason stop; Responses: a message item whose content
//     part is {type: refusal, refusal} (streams: response.refusal.delta / .done); Anthropic: a
//     text block, stop_reason "refusal".
//   - ungrounded: kUngroundedText, invented figures and names no prompt can contain.
// empty, refusal and ungrounded replace tool calls with the text answer. Usage follows the token
// model of text_gen.h (prose: a token per word; JSON: a token per 4 bytes; reasoning tokens are
// kept). Stop sequences and max_tokens cut the bad content as they cut any answer, so the exact
// texts above need a large enough token limit.
//
// Thread-safety: pure functions.
#pragma once

#include <string_view>

#include <boost/json/value.hpp>

#include "emulator/completion.h"
#include "emulator/faults.h"

namespace sy::emulator {

inline constexpr std::string_view kRefusalText = "I'm sorry, but I can't help with that request.";
inline constexpr std::string_view kUngroundedText =
    "According to Dr. Elena Marchetti of the Halvorsen Institute, revenue grew 37.4% to $812 "
    "million in 2019, with 14,250 new customers across 23 countries.";
inline constexpr std::string_view kCutJsonText = R"({"answer": "the total is)";
inline constexpr std::string_view kUnexpectedJsonText = R"({"unexpected": true})";

// Rewrites `choice` (generated for `request`) so its content fails `output`'s check; recomputes
// its output tokens.
void ApplyBadOutput(BadOutput output, const GenerationRequest& request, GeneratedChoice& choice);

// `valid` (a value that validates against `schema`) changed deterministically so that it does
// not: an object loses its first required property; with none, its first property gets a value
// of a type the property's schema does not allow; failing that (untyped property), the whole
// value is replaced by one of a type the root schema does not allow. A top-level "$ref" is
// followed. A schema with no type anywhere gives {"unexpected": true}, which it may accept.
boost::json::value BreakSchema(const boost::json::value& schema, boost::json::value valid);

// Moves the tool calls' argument text into the text (after any text already there) and makes
// the finish end_turn; tokens are unchanged. For Anthropic Message JSON, which cannot carry
// tool input that does not parse.
void ToolCallsToText(GeneratedChoice& choice);

}  // namespace sy::emulator
