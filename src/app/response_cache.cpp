#include "app/response_cache.h"

#include <algorithm>
#include <chrono>
#include <string>
#include <string_view>
#include <utility>

#include "app/gateway_metrics.h"
#include "app/response_headers.h"
#include "cache/cache.h"

namespace sy::app {
namespace {

// The rule's cache ttl, when this request may use the cache.
std::optional<std::chrono::seconds> CacheTtl(const RequestContext& ctx) {
  if (!ctx.services.cache || !ctx.decision || !ctx.decision->matched) return std::nullopt;
  if (ctx.turn.store) return std::nullopt;  // a replay would hand out another response's id
  return ctx.decision->matched->cache_ttl;
}

void AddCacheHeaders(const RequestContext& ctx, const cache::Entry& entry, http::Headers& headers) {
  AddSwitchyardHeaders(ctx, headers);
  headers.Add("x-switchyard-cost-usd", "0");
  headers.Add("x-switchyard-cache", "hit");
  const int64_t age_ms =
      std::max<int64_t>(0, core::UnixMs(ctx.services.clock.Now()) - entry.stored_at_ms);
  headers.Add("x-switchyard-cache-age", std::to_string(age_ms / 1000));
}

http::Task<void> Replay(RequestContext& ctx, cache::Entry entry) {
  ctx.outcome.status = 200;
  http::Headers headers;
  if (!entry.stream) {
    headers.Add("content-type", "application/json");
    AddCacheHeaders(ctx, entry, headers);
    co_await ctx.writer.Send(200, headers, std::move(entry.body));
    co_return;
  }
  headers.Add("content-type", "text/event-stream");
  headers.Add("cache-control", "no-cache");
  headers.Add("trailer", "x-switchyard-cost-usd");
  AddCacheHeaders(ctx, entry, headers);
  // One co_await a statement: GCC 12 mishandles co_await inside || and ?:.
  bool sent = co_await ctx.writer.StartStream(200, headers);
  if (sent) sent = co_await ctx.writer.Write(entry.body);
  if (!sent) {
    ctx.outcome.error_code = "client_closed";
    ctx.outcome.error_message = "the client closed the connection mid-stream";
    co_return;
  }
  http::Headers trailers;
  trailers.Add("x-switchyard-cost-usd", "0");
  co_await ctx.writer.EndStream(trailers);
}

// The dialect as the cache key sees it: its name, then each dialect header the client sent
// (anthropic-beta turns on features that change the answer: longer output, interleaved
// thinking, context management), "\n<name>:<value>" in the order sent. Without such headers
// it is the name alone, so those keys are unchanged. A header value holds no newline.
std::string DialectVariant(const core::Request& request) {
  std::string variant(core::DialectName(request.dialect));
  for (const auto& [name, value] : request.dialect_headers) {
    variant.append("\n").append(name).append(":").append(value);
  }
  return variant;
}

// Whether `model` is one of the candidates this request may be answered by (what remains of the
// route's chain after the client key's allowed_models).
bool AmongSteps(const RequestContext& ctx, std::string_view model) {
  return std::any_of(ctx.steps.begin(), ctx.steps.end(),
                     [&](const failover::Step& step) { return step.model->id == model; });
}

// Stores the answer under the request's key.
void Store(RequestContext& ctx, bool stream, std::string body) {
  if (!ctx.cache || !ctx.model || ctx.returned_rejected || ctx.outcome.status != 200) return;
  cache::Entry entry{
      .stream = stream,
      .body = std::move(body),
      .model = ctx.model->id,
      .provider = ctx.deployment ? ctx.deployment->provider->name : ctx.model->provider,
      .stored_at_ms = core::UnixMs(ctx.services.clock.Now())};
  ctx.services.cache->Put(ctx.cache->key, std::move(entry), ctx.cache->ttl);
}

}  // namespace

http::Task<bool> ServeFromCache(RequestContext& ctx) {
  const auto ttl = CacheTtl(ctx);
  if (!ttl) co_return false;
  // Under `scope: key` the client key's id is hashed too (none with auth.mode off: the tenant's).
  const std::string_view key_id =
      ctx.decision->matched->cache_per_key ? std::string_view(ctx.request.key_id) : "";
  std::string key =
      cache::Key(ctx.request.tenant, key_id, DialectVariant(ctx.request), ctx.request.stream,
                 ctx.decision->profile, ctx.decision->rule, ctx.request.body);
  auto entry = co_await ctx.services.cache->Get(key);
  // An entry of a model the catalog no longer has, of a model this request may not be answered
  // by (under the tenant's scope another key of the tenant, allowed more models, may have stored
  // it), or of the other kind (a key collision would need SHA-256 to fail), is a miss.
  const config::ModelConfig* model = entry ? ctx.services.catalog.FindModel(entry->model) : nullptr;
  const bool hit =
      entry && model && AmongSteps(ctx, model->id) && entry->stream == ctx.request.stream;
  if (ctx.services.metrics) {
    ctx.services.metrics->ObserveCacheLookup(ctx.request.tenant, hit ? "hit" : "miss");
  }
  if (!hit) {
    ctx.cache.emplace();
    ctx.cache->key = std::move(key);
    ctx.cache->ttl = *ttl;
    co_return false;
  }
  ctx.model = model;
  ctx.cache.emplace();
  ctx.cache->hit = true;
  co_await Replay(ctx, std::move(*entry));
  co_return true;
}

void CacheAnswer(RequestContext& ctx, std::string_view body) {
  if (!ctx.cache || ctx.cache->hit) return;
  if (body.size() > cache::kMaxEntryBytes) return;
  Store(ctx, /*stream=*/false, std::string(body));
}

void CaptureFrame(RequestContext& ctx, std::string_view frame) {
  if (!ctx.cache || ctx.cache->hit || ctx.cache->overflow) return;
  CacheState& c = *ctx.cache;
  if (c.frames.size() + frame.size() > cache::kMaxEntryBytes) {
    c.overflow = true;
    std::string().swap(c.frames);
    return;
  }
  // A replay costs nothing: the usage's cost field (OpenAI's usage chunk, Anthropic's
  // message_delta; JSON the relay wrote itself, so compact) is stored as "0".
  constexpr std::string_view kCost = "\"cost_usd\":\"";
  const size_t at = frame.find(kCost);
  if (at == std::string_view::npos) {
    c.frames.append(frame);
    return;
  }
  const size_t value = at + kCost.size();
  const size_t end = frame.find('"', value);
  if (end == std::string_view::npos) {
    c.frames.append(frame);
    return;
  }
  c.frames.append(frame.substr(0, value));
  c.frames.append("0");
  c.frames.append(frame.substr(end));
}

void CacheStream(RequestContext& ctx) {
  if (!ctx.cache || ctx.cache->hit || ctx.cache->overflow || ctx.cache->frames.empty()) return;
  if (!ctx.outcome.error_code.empty()) return;
  Store(ctx, /*stream=*/true, std::move(ctx.cache->frames));
}

}  // namespace sy::app
