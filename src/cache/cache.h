// cache::Store: the response cache (a routing rule's `cache: {ttl_s: N}`, docs/routing.md): the
// exact bytes a client got for a request, kept for ttl_s and replayed, at no cost, to a later
// request that is the same in everything that changes the answer.
//
// The key (Key) is a SHA-256 over the tenant, the dialect, whether the answer was streamed, the
// routing profile and rule, and the request body in a canonical form: object keys sorted at every
// level, compact JSON, and without the top-level fields that do not change the answer (`user`,
// `metadata`, `stream`, `store`, `service_tier`, `safety_identifier`, `prompt_cache_key`;
// `stream_options` is kept: include_usage adds a chunk to the stream). So two tenants never
// share an entry, and a streamed request is answered only from a stream with the same options.
// The keys of one tenant share its entries unless the rule says `scope: key`: then the client
// key's id (never its secret) is hashed too, so one key cannot learn from a hit what another key
// of its tenant asked.
//
// Two stores: in this process (MemoryStore: an LRU bounded in bytes) or, with
// shared_state.redis_url, in Redis (RedisStore: every replica shares one cache). Get may wait (a
// Redis round trip on the store's own thread, ahead of the queued writes: a worker never blocks);
// Put never waits (it is queued). A store that fails (Redis down) or is slow (a Get that waited
// longer than shared_state.timeout) behaves as a cache that misses: the request goes to the
// model, nothing is lost.
//
// Thread-safety: every method may be called from any thread.
// Lifetime: a store must outlive every Get awaiting it. RedisStore's destructor lets the SETs
// already queued run (each bounded by shared_state.timeout; dropped at once while Redis is down).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <boost/json/object.hpp>

#include "config/config.h"
#include "core/result.h"
#include "http/task.h"

namespace sy::cache {

// What a hit replays.
struct Entry {
  bool stream = false;       // body is SSE frames (as sent, text/event-stream), else a JSON body
  std::string body;          // the bytes the client got (a stream's cost fields set to 0)
  std::string model;         // the model that answered (x-switchyard-model, the ledger row)
  std::string provider;      // its provider
  int64_t stored_at_ms = 0;  // unix ms, for x-switchyard-cache-age
};

// The cache key of a request: 64 lowercase hex digits (see above). `key_id` is the client key's
// id under `scope: key`, else empty: the tenant's scope (so with auth.mode off, where requests
// carry no key id, scope key is scope tenant). `dialect` is the dialect's name followed by the
// client's dialect headers that change the answer (app/response_cache.cpp: Anthropic's
// anthropic-beta), so those are part of the key too.
std::string Key(std::string_view tenant, std::string_view key_id, std::string_view dialect,
                bool stream, std::string_view profile, std::string_view rule,
                const boost::json::object& body);

// Entries larger than this are not stored (a long stream, a huge answer): they would crowd out
// many others for one hit.
inline constexpr size_t kMaxEntryBytes = size_t{1} << 20;

class Store {
 public:
  virtual ~Store() = default;
  // The entry stored under `key` and not yet expired, if any. A failing store answers nothing.
  virtual http::Task<std::optional<Entry>> Get(std::string key) = 0;
  // Stores `entry` under `key` for `ttl` (replacing what was there). Entries over
  // kMaxEntryBytes are ignored. Never waits.
  virtual void Put(std::string key, Entry entry, std::chrono::seconds ttl) = 0;
};

// In this process: an LRU holding at most `max_bytes` of entries (keys and bodies counted),
// expired entries dropped when met.
std::unique_ptr<Store> MemoryStore(size_t max_bytes);

// In Redis (shared_state.redis_url): keys "<key_prefix>cache:<key>", values in a versioned
// binary form, expiring after their ttl. One thread owns the connection (shared/link.h: down for
// a second after a failure, when Get answers nothing at once); a Get goes ahead of every queued
// Put and misses without asking Redis once it has waited longer than shared_state.timeout. Fails
// with kInvalidRequest for a malformed URL; an unreachable Redis is not an error here.
core::Result<std::unique_ptr<Store>> RedisStore(const config::SharedStateConfig& config);

}  // namespace sy::cache
