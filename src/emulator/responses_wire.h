// The OpenAI Responses dialect of the emulator, written from OpenAI's public API reference (it
// shares no code with providers/ or api/translate): POST <any prefix>/responses, a Response
// object or typed SSE events, and OpenAI-shaped errors naming `param`.
//
// Validation: 401 without "Authorization: Bearer <key>"; 400 for a body that is not a JSON
// object; a missing `model` or `input`; an input item that is not a message (role user,
// assistant, system or developer; content a string or input_text / output_text / input_image
// parts), a function_call {call_id, name, arguments} or a function_call_output {call_id,
// output}; a tool that is not {type: function, name, ...}; a tool_choice other than auto, none,
// required or {type: function, name} naming an offered tool; text.format other than text,
// json_object or json_schema {name, schema}; max_output_tokens < 16; temperature outside
// [0, 2], top_p outside [0, 1]; a non-boolean stream / store / parallel_tool_calls; an unknown
// reasoning.effort; metadata that is not an object of strings. The emulator keeps no state, so
// any previous_response_id is answered as OpenAI answers an unknown one: 400 "Previous response
// with id '...' not found." (param previous_response_id).
//
// Then registered faults for the model strike, the answer is generated (completion.h, as in
// Chat Completions: instructions count as a system message, function_call items as assistant
// turns, function_call_output items as tool turns) and paced by the model's latency profile.
//
// Thread-safety: stateless functions; `state` is thread-safe.
#pragma once

#include "emulator/http_message.h"
#include "emulator/state.h"

namespace sy::emulator {

Reply HandleOpenAiResponses(const HttpRequest& request, State& state);

}  // namespace sy::emulator
