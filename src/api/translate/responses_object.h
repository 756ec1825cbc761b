// The Response object a Responses client receives, built around translated output; shared by the
// answer and the stream translators towards Responses. Not for use outside api/translate/.
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>

#include <boost/json/object.hpp>
#include <boost/json/storage_ptr.hpp>

#include "api/translate/translate.h"

namespace sy::api::translate::internal {

// {id: ctx.response_id, object: "response", created_at, status, error: null,
// incomplete_details: null, model, output: [], usage: null} plus the fields a Response echoes from
// the client's request (ctx.responses_request; OpenAI's defaults when absent or null):
// instructions (null), max_output_tokens (null), metadata ({}), parallel_tool_calls (true),
// previous_response_id (ctx's, else null), reasoning ({effort: null, summary: null}), store
// (true), temperature (1), text ({format: {type: text}}), tool_choice ("auto"), tools ([]),
// top_p (1), truncation ("disabled": the translation never truncates), user and
// safety_identifier when given.
boost::json::object ResponseEnvelope(const Context& ctx, std::string_view model,
                                     std::string_view status, boost::json::storage_ptr sp);

// Sets status "incomplete" and incomplete_details.reason on `response` when the Chat finish
// reason says the answer was cut ("length" -> max_output_tokens, "content_filter"); returns
// whether it did.
bool MarkIncomplete(boost::json::object& response, std::string_view finish_reason);

// Output item ids, stable for a given answer: "msg_<response id without resp_>[_n]" for the n-th
// message item (n > 0), "fc_<call id>" for a function call.
std::string MessageItemId(const Context& ctx, int n);
std::string FunctionCallItemId(std::string_view call_id);

}  // namespace sy::api::translate::internal
