// app::Gateway: the request pipeline behind the HTTP server.
//
// Stages, in order, each a function over one RequestContext (docs/architecture.md):
//   decode (dialect -> core::Request) -> route (catalog: alias -> ordered candidates, reason)
//   -> execute (failover::RunChain over provider adapters) -> account (exact cost)
//   -> encode (dialect response + x-switchyard-* headers) -> record (ledger, off the hot path).
// Every request that reaches a /v1/ endpoint leaves exactly one ledger record, failures included.
//
// Thread-safety: Handle runs concurrently on every worker; the Gateway itself is immutable
// after construction, per-worker state lives in thread-locals.
// Lifetime: the catalog and the sink must outlive the Gateway.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <string>

#include "app/context.h"
#include "app/models.h"
#include "catalog/catalog.h"
#include "http/server.h"
#include "ledger/sink.h"
#include "providers/provider.h"

namespace sy::app {

class Gateway {
 public:
  Gateway(std::shared_ptr<const catalog::Catalog> catalog, ledger::Sink& sink);

  http::Task<void> Handle(http::ServerRequest& request, http::ResponseWriter& writer);

  // After this, /readyz answers 503 so load balancers drain the instance.
  void SetDraining() { draining_ = true; }

  // Providers whose kind has no adapter in this build, with the reason (logged at start).
  const std::map<std::string, std::string>& unavailable_providers() const { return unavailable_; }

  using Context = RequestContext;

 private:
  using SteadyTime = std::chrono::steady_clock::time_point;

  http::Task<void> Generate(Context& ctx);
  http::Task<void> Complete(Context& ctx);
  http::Task<void> Stream(Context& ctx);
  http::Task<void> Fail(Context& ctx, const core::Error& error);
  http::Task<void> Models(http::ServerRequest& request, http::ResponseWriter& writer);
  // GET /v1/models[/{id}] in `dialect`'s shape, or the error to answer with.
  core::Result<std::string> ModelsBody(const http::ServerRequest& request,
                                       core::Dialect dialect) const;
  void Record(Context& ctx);
  providers::Provider* ProviderFor(const config::ModelConfig& model) const;

  // The route's candidates whose API can express the request (translation succeeds); the
  // others are recorded as skipped attempts. Fails with the first refusal when none is left.
  core::Result<std::vector<const config::ModelConfig*>> Servable(Context& ctx) const;
  // The request translated into `dialect`, made once per request and dialect.
  const core::Result<boost::json::object>& BodyFor(Context& ctx, core::Dialect dialect) const;
  // The request body in `dialect`. REQUIRES: Servable() found the request expressible in it.
  const boost::json::object& BodyIn(Context& ctx, core::Dialect dialect) const;
  // One non-streamed attempt on `model`, its answer translated into the client's dialect.
  http::Task<core::Result<providers::Completion>> CompleteOn(Context& ctx,
                                                             const config::ModelConfig& model,
                                                             SteadyTime deadline) const;

  std::shared_ptr<const catalog::Catalog> catalog_;
  ledger::Sink& sink_;
  std::map<std::string, std::unique_ptr<providers::Provider>> providers_;
  std::map<std::string, std::string> unavailable_;
  std::unique_ptr<ModelsListing> models_;
  std::atomic<bool> draining_{false};
};

}  // namespace sy::app
