// The cache stage (a routing rule's `cache: {ttl_s: N}`; cache/cache.h): after routing and the
// key's scope checks, before any model is called.
//
//   ServeFromCache: the request's cache key (in the tenant's scope, or the client key's under
//     `scope: key`) is looked up; a hit is sent as it was first sent (a JSON body, or a stream's
//     frames as a stream) with x-switchyard-cache: hit, its age, and a cost of $0 (header,
//     stream trailer, and the stream's usage cost fields), and recorded in the ledger
//     (route_reason "cache hit; ...", no attempt, cost 0). A miss marks the request so its
//     answer is stored.
//   CacheAnswer / CaptureFrame + CacheStream: the answer the client got, stored once it is
//     complete and successful: a verified answer, not one returned after every candidate failed
//     verification (return_last), not a stream that broke off or that the client left.
//
// Not cached: Responses requests that store their answer (store: true, the default), since a
// replay would hand out another response's id; requests of a rule without `cache`.
#pragma once

#include <string_view>

#include "app/context.h"
#include "http/task.h"

namespace sy::app {

// True (and the answer sent) on a hit; false on a miss or when the rule does not cache.
http::Task<bool> ServeFromCache(RequestContext& ctx);

// A complete JSON answer, as sent.
void CacheAnswer(RequestContext& ctx, std::string_view body);
// One stream frame, as sent (its cost fields stored as 0).
void CaptureFrame(RequestContext& ctx, std::string_view frame);
// The stream ended as it should: stores its frames.
void CacheStream(RequestContext& ctx);

}  // namespace sy::app
