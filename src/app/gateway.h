// app::Gateway: the handler behind the HTTP server. It dispatches each request by a table of
// endpoints; the generation endpoints run the stage pipeline (app/pipeline.h):
//   decode -> route -> execute -> account -> encode -> record.
// Every request that reaches a /v1/ endpoint other than the model list leaves exactly one ledger
// record, whatever ends it: a failure, the client leaving, a shutdown cut, or an exception, which
// the last-resort handler logs, answers with a 500 in the client's dialect, and records.
//
// Thread-safety: Handle runs concurrently on every worker. The Gateway is immutable after
// construction except for the process-wide health (lock-free) and the draining flag.
// Lifetime: the catalog, the sink and the clock must outlive the Gateway.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <string>

#include "app/admin.h"
#include "app/context.h"
#include "app/gateway_metrics.h"
#include "app/models.h"
#include "app/shadow.h"
#include "catalog/catalog.h"
#include "core/clock.h"
#include "http/server.h"
#include "ledger/sink.h"
#include "routing/health.h"
#include "routing/policy.h"

namespace sy::app {

// What a gateway serving keys, reports and metrics is given besides its core collaborators.
// Everything pointed to must outlive the Gateway.
struct GatewayParts {
  // Client keys; null: auth.mode off (no key asked for, /admin/keys answers 404).
  KeyService* keys = nullptr;
  AccessLog* access_log = nullptr;                  // null: no access log
  http::BlockingPool* blocking = nullptr;           // null: /admin/ and the reports answer 404
  std::unique_ptr<ledger::FeedbackStore> feedback;  // with `blocking`
  std::function<void()> flush_ledger;               // makes recorded requests readable
  std::function<LedgerStats()> ledger_stats;        // for /metrics
  shared::Counters* counters = nullptr;  // null: budgets and rate limits counted in-process
  cache::Store* cache = nullptr;         // null: no rule caches its answers
  // Runs the response store's calls off the workers; null: inline (unit tests only).
  http::BlockingPool* store_pool = nullptr;
};

class Gateway {
 public:
  // `policy` was built from `catalog` (routing::Policy::Build). `responses` keeps the Responses
  // dialect's stored responses; null when responses.store is false (it must outlive the Gateway).
  Gateway(std::shared_ptr<const catalog::Catalog> catalog, routing::Policy policy,
          ledger::Sink& sink, const core::Clock& clock, ledger::ResponseStore* responses = nullptr,
          GatewayParts parts = {});

  http::Task<void> Handle(http::ServerRequest& request, http::ResponseWriter& writer);

  // What this process has learnt about its upstreams (shared with other replicas by
  // shared::HealthShare when shared_state.redis_url is set).
  routing::Health& health() { return health_; }

  // After this, /readyz answers 503 so load balancers drain the instance.
  // No shadow request starts afterwards either.
  void SetDraining() {
    draining_ = true;
    shadows_.SetDraining();
  }

  // Providers whose kind has no adapter in this build, with the reason (logged at start).
  const std::map<std::string, std::string>& unavailable_providers() const {
    return providers_.unavailable();
  }

  // The route table's vocabulary (gateway.cpp holds the table).
  enum class EndpointKind {
    kHealth,
    kReady,
    kModels,
    kExplain,
    kRouteHealth,
    kCountTokens,
    kStoredResponse,
    kMetrics,
    kAdmin,
    kClientReports,
    kGenerate
  };
  struct Endpoint;

 private:
  http::Task<void> Serve(EndpointKind kind, http::ServerRequest& http, http::ResponseWriter& writer,
                         const Caller* caller);
  http::Task<void> Recorded(http::ServerRequest& http, http::ResponseWriter& writer,
                            const Endpoint* endpoint);
  http::Task<void> Models(http::ServerRequest& request, http::ResponseWriter& writer);
  // POST /v1/route/explain: the route decision for a request body, no upstream called, not
  // recorded (it costs nothing). `caller`: the key's, or null with auth.mode off; it takes one
  // request from the key's auxiliary rate bucket (auth.h AdmitAuxiliary).
  http::Task<void> Explain(http::ServerRequest& request, http::ResponseWriter& writer,
                           const Caller* caller);
  // POST /v1/messages/count_tokens (count_tokens.cpp): not recorded (nothing is generated).
  // `caller`: the key's, or null with auth.mode off; its allowed_models and allowed_profiles
  // apply, as they do to generation (nothing reaches a counter upstream for a model the key may
  // not use), and it takes one request from the key's auxiliary rate bucket.
  http::Task<void> CountTokens(http::ServerRequest& request, http::ResponseWriter& writer,
                               const Caller* caller);
  // POST /v1/feedback, GET /v1/spend and GET /v1/outcomes (admin.h ServeClient): not recorded.
  // Each takes one request from the key's auxiliary rate bucket, as explain does: a key over its
  // requests_per_minute wrote 15,105 feedback rows (60 MB) in 10 s (audit 3).
  http::Task<void> ClientReports(http::ServerRequest& request, http::ResponseWriter& writer,
                                 const Caller* caller);
  // GET and DELETE /v1/responses/{id} (stored_responses.cpp).
  http::Task<void> StoredResponse(http::ServerRequest& request, http::ResponseWriter& writer,
                                  const Caller* caller);
  // GET /v1/models[/{id}] in `dialect`'s shape, or the error to answer with.
  core::Result<std::string> ModelsBody(const http::ServerRequest& request,
                                       core::Dialect dialect) const;
  // The caller of a /v1/ endpoint other than generation (nullopt with auth off), or the error.
  core::Result<std::optional<Caller>> CallerOf(const http::ServerRequest& request) const;
  std::string MetricsText() const;
  // GET /metrics without the metrics token (or the admin token) while one is set: 401.
  http::Task<void> RefuseScrape(http::ResponseWriter& writer);

  std::shared_ptr<const catalog::Catalog> catalog_;
  routing::Policy policy_;
  ProviderSet providers_;
  routing::Health health_;
  core::SecretScrubber secrets_;
  Services services_;
  std::unique_ptr<ModelsListing> models_;
  std::unique_ptr<GatewayMetrics> metrics_;  // null: metrics.enabled is false
  std::function<LedgerStats()> ledger_stats_;
  // HMAC key for comparing the operator tokens (admin, metrics) in constant time (PresentsToken);
  // admin_ compares with it too, so it is declared first.
  const std::string compare_key_;
  std::unique_ptr<AdminApi> admin_;  // null without a blocking pool
  ShadowRunner shadows_;             // rules' shadow traffic
  std::atomic<bool> draining_{false};
};

}  // namespace sy::app
