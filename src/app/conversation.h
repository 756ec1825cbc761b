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

#include <functional>
#include <optional>

#include <boost/json/object.hpp>

#include "app/context.h"
#include "core/result.h"
#include "http/task.h"
#include "ledger/response_store.h"

namespace sy::app {

// Decode stage, Responses requests only: reads `store` and `previous_response_id` and remembers
// this turn's own input (ctx.turn). No I/O. Fails with kInvalidRequest (param
// previous_response_id) when the request continues a response and stored responses are off.
core::Status ReadConversation(RequestContext& ctx);

// After decode, Responses requests only: a request that stores its answer is refused
// (kInvalidRequest, param store) when its key's stored responses are full
// (ledger::ResponseStore::CheckRoom, read only once a put found them full). When the request
// continues a stored response, reads the conversation from the store (on the store's pool, off the
// worker) and replaces body.input with it (every stored turn's input and output items, oldest
// first, then the new input); then checks that every function_call_output answers a function_call.
// Fails with kNotFound for an id that is unknown, expired or not the caller's, kInvalidRequest for
// a conversation over the bounds or a dangling function_call_output, kOverloaded when the store's
// pool is full, kInternal when the store fails.
http::Task<core::Status> ExpandConversation(RequestContext& ctx);

// After a successful answer: the row that stores `response` (the Response object as the client
// gets it), nullopt when the request did not ask for it, the gateway keeps no responses, or the
// Response has no id.
std::optional<ledger::StoredResponse> ToStore(const RequestContext& ctx,
                                              const boost::json::object& response);

// Writes `stored` (on the store's pool) and returns once it is committed: call it before the
// answer's last byte is sent, so that the client's next turn finds it on any replica. A write that
// fails (or a full pool) is logged and counted (switchyard_response_store_failures_total) and
// leaves the answer as it is: the client has it; only a later previous_response_id will fail.
http::Task<void> StoreResponse(RequestContext& ctx, const ledger::StoredResponse& stored);

// Runs `call` (ResponseStore calls) on ctx.services.store_pool, inline when there is none (unit
// tests). False when the pool is full (`call` did not run). `call` may refer to the caller's
// locals: the runner drains the pool before it destroys a coroutine that never resumed.
http::Task<bool> RunOnStorePool(const Services& services, std::function<void()>& call);
// The 503 (kOverloaded) for a call RunOnStorePool could not queue.
core::Error StorePoolFull();

// A Response passed through from a Responses-native upstream, which was sent store: false and
// no previous_response_id: the two fields are set back to what the client asked, and its id is
// the gateway's (ResponseIdFor), under which the turn is stored.
void EchoConversation(const RequestContext& ctx, boost::json::object& response);

// The id a translated answer gets: "resp_" and the request id's hex.
std::string ResponseIdFor(const core::Request& request);

}  // namespace sy::app
