// The Responses dialect's conversation state on the request path: `store` and
// `previous_response_id` (docs/api.md, "Stored responses").
//
// The gateway, not the upstream, keeps the state: a request continuing a stored response is
// expanded, before routing, into the whole conversation (every stored turn's input and output
// items, oldest first, then the new input), so any model on any provider can answer it and the
// router sees what the model will see. Upstreams are sent store: false.
//
// Thread-safety: per request; the store is shared and thread-safe.
#pragma once

#include <boost/json/object.hpp>

#include "app/context.h"
#include "core/result.h"

namespace sy::app {

// Decode stage, Responses requests only: reads `store` and `previous_response_id`, remembers
// this turn's own input (ctx.turn), and replaces body.input with the whole conversation, then
// checks that every function_call_output answers a function_call. Fails with kInvalidRequest
// (param previous_response_id) when stored responses are off, kNotFound for an id that is
// unknown, expired or the caller's no more, or the decoder's errors.
core::Status ExpandConversation(RequestContext& ctx);

// After a successful answer: stores `response` (the Response object as the client got it) when
// the request asked for it and the gateway keeps responses. A store that fails is logged and
// leaves the answer as it is (the client has it; only a later previous_response_id will fail).
void StoreResponse(RequestContext& ctx, const boost::json::object& response);

// A Response passed through from a Responses-native upstream, which was sent store: false and
// no previous_response_id: the two fields are set back to what the client asked.
void EchoConversation(const RequestContext& ctx, boost::json::object& response);

// The id a translated answer gets: "resp_" and the request id's hex.
std::string ResponseIdFor(const core::Request& request);

}  // namespace sy::app
