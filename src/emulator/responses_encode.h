// Encoding of a generated answer as an OpenAI Responses API Response object and its typed SSE
// event sequence, written from OpenAI's API reference (shares no code with api/translate).
// Internal to the emulator's Responses dialect. Thread-safety: pure functions.
//
// Output items, in order: one message item (when there is text, or when there are no tool
// calls) then one function_call item per tool call. A choice cut by the token limit gives
// status "incomplete" with incomplete_details {"reason": "max_output_tokens"}, and the cut
// item has status "incomplete".
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <boost/json/object.hpp>

#include "emulator/completion.h"
#include "emulator/http_message.h"
#include "emulator/profiles.h"

namespace sy::emulator {

struct ResponsesAnswer {
  std::string id;  // "resp_..."
  int64_t created_at = 0;
  std::string model;
  GeneratedChoice choice;
  int64_t input_tokens = 0;
  int64_t cached_tokens = 0;
  // The request fields a Response echoes (instructions, max_output_tokens, parallel_tool_calls,
  // previous_response_id, reasoning, store, temperature, text, tool_choice, tools, top_p,
  // truncation, metadata, ...), already defaulted; copied into every Response object.
  boost::json::object echo;
};

// The Response object (status completed or incomplete).
boost::json::object ResponsesResponseJson(const ResponsesAnswer& answer);
// response.created, response.in_progress, the item/part/delta events, and response.completed
// (or response.incomplete); each "event: TYPE\ndata: {..., "sequence_number": n}\n\n", paced by
// `profile`.
std::vector<StreamEvent> ResponsesStreamEvents(const ResponsesAnswer& answer,
                                               const Profile& profile);
// The usage block: input_tokens, input_tokens_details, output_tokens, output_tokens_details,
// total_tokens.
boost::json::object ResponsesUsageJson(const ResponsesAnswer& answer);

}  // namespace sy::emulator
