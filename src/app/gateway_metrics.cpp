#include "app/gateway_metrics.h"

#include <algorithm>
#include <chrono>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "core/int128.h"

namespace sy::app {
namespace {

using metrics::Buckets;

// Request and first-token times come in whole milliseconds (the record's unit): base unit ms.
Buckets SecondsInMs(std::vector<int64_t> ms) { return Buckets{std::move(ms), 3}; }

// A request's total: from a cached short answer to a long reasoning stream.
Buckets RequestBuckets() {
  return SecondsInMs(
      {50, 100, 250, 500, 1000, 2500, 5000, 10000, 20000, 30000, 60000, 120000, 300000});
}

Buckets TtftBuckets() { return SecondsInMs({50, 100, 250, 500, 1000, 2000, 5000, 10000, 30000}); }

// The gateway's own share, 10us to 100ms, in microseconds.
Buckets OverheadBuckets() {
  return Buckets{{10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000}, 6};
}

std::string_view ModelOrNone(std::string_view model) { return model.empty() ? "none" : model; }

// "passed", "rejected" or "recorded" from an attempt's verdict; "" when no check ran.
std::string_view VerdictResult(std::string_view verdict) {
  for (std::string_view result : {"passed", "rejected", "recorded"}) {
    if (verdict.starts_with(result)) return result;
  }
  return {};
}

int64_t BreakerValue(routing::BreakerState state) {
  switch (state) {
    case routing::BreakerState::kClosed:
      return 0;
    case routing::BreakerState::kHalfOpen:
      return 1;
    case routing::BreakerState::kOpen:
      return 2;
  }
  return 0;
}

void CountTokens(metrics::Family<metrics::Counter>& tokens, const ledger::Attempt& attempt,
                 std::string_view tenant) {
  const core::Usage& usage = attempt.usage;
  const std::pair<std::string_view, int64_t> kinds[] = {
      {"input", usage.input_tokens},
      {"cached_input", usage.cached_input_tokens},
      {"cache_write", usage.cache_write_input_tokens},
      {"output", usage.output_tokens},
  };
  for (const auto& [kind, count] : kinds) {
    if (count > 0) tokens.With({attempt.model, attempt.provider, tenant, kind}).Add(count);
  }
}

// Only a configuration with a live `router` rule shows these families.
void AddRouterCalibrations(const std::vector<RouterCalibration>& routers,
                           metrics::Registry& scrape) {
  auto& threshold = scrape.AddFractionGauge("switchyard_router_threshold",
                                            "The score at or above which a live-calibrated router "
                                            "rule sends a prompt to its strong side.",
                                            {"profile", "rule"});
  auto& share = scrape.AddFractionGauge(
      "switchyard_router_strong_share",
      "The strong share a live-calibrated router rule holds (a budget's follows the traffic).",
      {"profile", "rule"});
  for (const RouterCalibration& r : routers) {
    threshold.With({r.profile, r.rule}).Set(r.threshold);
    share.With({r.profile, r.rule}).Set(r.strong_share);
  }
}

// Whether a's budget window is fuller than b's: spent / limit, compared exactly (cross products
// of pico-dollars, which fit 128 bits). A zero budget is full whatever was spent (the limiter
// refuses every request against it), so it ranks first; without that rule 0 / 0 would tie with
// every other window and leave no consistent order. Ties go to the tenant's name: the order is
// total, as nth_element needs.
bool Fuller(const BudgetUse& a, const BudgetUse& b) {
  const bool a_zero = a.limit.pico() <= 0;
  const bool b_zero = b.limit.pico() <= 0;
  if (a_zero != b_zero) return a_zero;
  if (!a_zero) {
    const core::Int128 lhs = core::Int128{a.spent.pico()} * b.limit.pico();
    const core::Int128 rhs = core::Int128{b.spent.pico()} * a.limit.pico();
    if (lhs != rhs) return lhs > rhs;
  }
  return a.tenant < b.tenant;
}

// The budgets whose gauges a scrape shows: all of them, or, when more than max_tenants tenants
// hold budgets, those of the max_tenants tenants nearest a limit (their fullest window first):
// what an alert on these gauges is for. `omitted` counts the tenants left out.
std::vector<const BudgetUse*> BudgetsToShow(const std::vector<BudgetUse>& budgets,
                                            size_t max_tenants, size_t& omitted) {
  std::unordered_map<std::string_view, const BudgetUse*> fullest;  // a tenant's fullest window
  for (const BudgetUse& budget : budgets) {
    auto [it, fresh] = fullest.try_emplace(budget.tenant, &budget);
    if (!fresh && Fuller(budget, *it->second)) it->second = &budget;
  }
  omitted = fullest.size() > max_tenants ? fullest.size() - max_tenants : 0;
  std::unordered_set<std::string_view> kept;
  if (omitted > 0) {
    std::vector<const BudgetUse*> ranked;
    ranked.reserve(fullest.size());
    for (const auto& entry : fullest) ranked.push_back(entry.second);
    const auto end = ranked.begin() + static_cast<std::ptrdiff_t>(max_tenants);
    std::nth_element(ranked.begin(), end, ranked.end(),
                     [](const BudgetUse* a, const BudgetUse* b) { return Fuller(*a, *b); });
    for (auto it = ranked.begin(); it != end; ++it) kept.insert((*it)->tenant);
  }
  std::vector<const BudgetUse*> shown;
  for (const BudgetUse& budget : budgets) {
    if (omitted == 0 || kept.contains(budget.tenant)) shown.push_back(&budget);
  }
  return shown;
}

// The figures read at scrape time, in a registry of their own built per scrape (so a gauge
// never outlives what it shows).
void RenderScraped(const catalog::Catalog& catalog, const routing::Health& health,
                   const LedgerStats& ledger, const std::vector<BudgetUse>& budgets,
                   const std::vector<RouterCalibration>& routers, const metrics::LabelCap& tenants,
                   std::string& out) {
  metrics::Registry scrape;
  auto& spent = scrape.AddUsdGauge("switchyard_budget_spent_usd",
                                   "USD a tenant has spent in the budget's current window.",
                                   {"tenant", "window"});
  auto& limit =
      scrape.AddUsdGauge("switchyard_budget_limit_usd",
                         "A tenant's configured budget for the window.", {"tenant", "window"});
  size_t omitted = 0;
  for (const BudgetUse* budget : BudgetsToShow(budgets, tenants.max(), omitted)) {
    spent.With({budget->tenant, budget->window}).Set(budget->spent);
    limit.With({budget->tenant, budget->window}).Set(budget->limit);
  }
  scrape
      .AddGauge("switchyard_budget_tenants_omitted",
                "Tenants with a budget whose budget gauges this scrape left out: more than "
                "metrics.max_tenant_labels hold budgets, and these are furthest from a limit.",
                {})
      .With({})
      .Set(static_cast<int64_t>(omitted));
  scrape
      .AddGauge("switchyard_metrics_tenant_labels",
                "Tenants with request series of their own (at most metrics.max_tenant_labels).", {})
      .With({})
      .Set(static_cast<int64_t>(tenants.admitted()));
  scrape
      .AddCounter("switchyard_metrics_tenant_folded_total",
                  "Tenant observations counted under tenant=\"(other)\": their tenant came after "
                  "metrics.max_tenant_labels others.",
                  {})
      .With({})
      .Add(static_cast<int64_t>(tenants.folded()));
  auto& breaker = scrape.AddGauge("switchyard_breaker_state",
                                  "Circuit breaker of a deployment: 0 closed, 1 half-open, 2 open.",
                                  {"model", "deployment"});
  // The breaker's state does not depend on the time passed; only the window counts do.
  const auto now = std::chrono::steady_clock::now();
  for (const catalog::Deployment* deployment : catalog.deployments()) {
    if (deployment->slot >= health.size()) continue;
    const routing::BreakerState state = health.Read(deployment->slot, now).state;
    breaker.With({deployment->model->id, deployment->name()}).Set(BreakerValue(state));
  }
  scrape.AddGauge("switchyard_ledger_queue_depth", "Ledger records waiting to be written.", {})
      .With({})
      .Set(static_cast<int64_t>(ledger.queued));
  scrape.AddCounter("switchyard_ledger_records_written_total", "Ledger records written.", {})
      .With({})
      .Add(static_cast<int64_t>(ledger.written));
  scrape
      .AddCounter("switchyard_ledger_records_lost_total",
                  "Ledger records dropped (the queue and the spill file full, or both failing).",
                  {})
      .With({})
      .Add(static_cast<int64_t>(ledger.lost));
  scrape
      .AddCounter(
          "switchyard_ledger_records_spilled_total",
          "Ledger records spilled to the local spill file (database failing or queue full).", {})
      .With({})
      .Add(static_cast<int64_t>(ledger.spilled_total));
  scrape
      .AddCounter("switchyard_ledger_records_rejected_total",
                  "Ledger records the database refused for a value they hold, set aside in the "
                  "rejected file.",
                  {})
      .With({})
      .Add(static_cast<int64_t>(ledger.rejected));
  scrape
      .AddCounter("switchyard_ledger_batches_written_total",
                  "Transactions the ledger writer committed (records written over this: the "
                  "batch size).",
                  {})
      .With({})
      .Add(static_cast<int64_t>(ledger.batches));
  scrape
      .AddCounter("switchyard_ledger_rows_pruned_total",
                  "Ledger rows deleted past ledger.retention_days (requests with their "
                  "attempts, shadows, feedback).",
                  {})
      .With({})
      .Add(static_cast<int64_t>(ledger.rows_pruned));
  scrape
      .AddCounter("switchyard_ledger_prune_errors_total",
                  "Retention passes that failed (retried after a minute).", {})
      .With({})
      .Add(static_cast<int64_t>(ledger.prune_errors));
  if (ledger.response_store) {
    scrape
        .AddCounter("switchyard_response_store_swept_total",
                    "Expired stored responses deleted by the store's sweeps.", {})
        .With({})
        .Add(static_cast<int64_t>(ledger.responses_swept));
    scrape
        .AddCounter("switchyard_response_store_sweep_failures_total",
                    "Sweeps of expired stored responses that failed (retried at the next one).", {})
        .With({})
        .Add(static_cast<int64_t>(ledger.response_sweep_failures));
  }
  scrape.AddGauge("switchyard_ledger_spill_records", "Ledger records in the spill file now.", {})
      .With({})
      .Set(static_cast<int64_t>(ledger.spill_records));
  scrape.AddGauge("switchyard_ledger_spill_bytes", "Size of the ledger's spill file.", {})
      .With({})
      .Set(static_cast<int64_t>(ledger.spill_bytes));
  if (ledger.shared_state_up >= 0) {
    scrape
        .AddGauge("switchyard_shared_state_up",
                  "1 when the last call to Redis (shared budgets and rate limits) worked, else 0.",
                  {})
        .With({})
        .Set(ledger.shared_state_up);
    scrape
        .AddCounter("switchyard_shared_state_failures_total",
                    "Calls to Redis that failed (unreachable, timed out, or an unexpected reply).",
                    {})
        .With({})
        .Add(static_cast<int64_t>(ledger.shared_state_failures));
  }
  scrape.AddCounter("switchyard_ledger_write_errors_total", "Failed ledger writes.", {})
      .With({})
      .Add(static_cast<int64_t>(ledger.write_errors));
  scrape
      .AddCounter("switchyard_access_log_dropped_total",
                  "Access log lines dropped because the log's queue was full.", {})
      .With({})
      .Add(static_cast<int64_t>(ledger.access_log_dropped));
  if (!routers.empty()) AddRouterCalibrations(routers, scrape);
  scrape.RenderTo(out);
}

}  // namespace

GatewayMetrics::GatewayMetrics(const catalog::Catalog& catalog)
    : catalog_(catalog),
      tenants_(static_cast<size_t>(catalog.config().metrics.max_tenant_labels), "tenant",
               "metrics.max_tenant_labels"),
      requests_(registry_.AddCounter(
          "switchyard_requests_total", "Client requests answered, by route and HTTP status.",
          {"dialect", "endpoint", "profile", "rule", "model", "status"})),
      attempts_(registry_.AddCounter("switchyard_attempts_total",
                                     "Upstream attempts (candidates tried or skipped) by outcome.",
                                     {"model", "provider", "deployment", "outcome"})),
      attempt_errors_(registry_.AddCounter("switchyard_attempt_errors_total",
                                           "Failed attempts by error code (the failover reason).",
                                           {"model", "provider", "error"})),
      verifications_(registry_.AddCounter("switchyard_verifications_total",
                                          "Attempts whose answer was verified, by result.",
                                          {"model", "result"})),
      request_duration_(
          registry_.AddHistogram("switchyard_request_duration_seconds",
                                 "Time from receiving a request to its last byte sent.",
                                 {"dialect", "stream"}, RequestBuckets())),
      ttft_(registry_.AddHistogram("switchyard_time_to_first_token_seconds",
                                   "Time to the first streamed content byte sent.", {"model"},
                                   TtftBuckets())),
      overhead_(registry_
                    .AddHistogram("switchyard_overhead_seconds",
                                  "The gateway's own time per request: total minus the time "
                                  "spent waiting on upstreams.",
                                  {}, OverheadBuckets())
                    .With({})),
      tokens_(registry_.AddCounter(
          "switchyard_tokens_total",
          "Tokens billed per attempt; input includes cached_input and cache_write.",
          {"model", "provider", "tenant", "kind"})),
      cost_(registry_.AddUsdCounter("switchyard_cost_usd_total",
                                    "USD billed per attempt, exact to the pico-dollar.",
                                    {"model", "provider", "tenant"})),
      auth_failures_(registry_.AddCounter("switchyard_auth_failures_total",
                                          "Requests refused by authentication, by reason.",
                                          {"reason"})),
      limited_(registry_.AddCounter("switchyard_limited_total",
                                    "Requests refused by a rate limit or budget.",
                                    {"tenant", "limit"})),
      cache_lookups_(registry_.AddCounter(
          "switchyard_cache_lookups_total",
          "Requests of a caching rule looked up in the response cache, by result.",
          {"tenant", "result"})),
      response_store_failures_(registry_.AddCounter(
          "switchyard_response_store_failures_total",
          "Stored-response reads and writes that failed (the database, or too many at once).",
          {"operation"})),
      shadows_(registry_.AddCounter(
          "switchyard_shadow_requests_total",
          "Live requests a rule's shadow sampled, by what became of the shadow request.",
          {"profile", "rule", "result"})),
      shadow_cost_(registry_.AddUsdCounter(
          "switchyard_shadow_cost_usd_total",
          "USD billed for shadow requests, exact to the pico-dollar (not in cost_usd_total).",
          {"profile", "rule", "model"})) {}

namespace {

// The path as a label: one of the generation endpoints, else "other" (a client probing random
// paths must not mint a series per path).
std::string_view EndpointLabel(std::string_view path) {
  for (std::string_view known : {"/v1/chat/completions", "/v1/messages", "/v1/responses"}) {
    if (path == known) return known;
  }
  return "other";
}

}  // namespace

void GatewayMetrics::Observe(const ledger::Record& record, std::chrono::microseconds overhead) {
  const std::string status = std::to_string(record.status);
  const std::string_view model = ModelOrNone(record.chosen_model);
  requests_
      .With({record.dialect, EndpointLabel(record.endpoint), record.profile, record.rule, model,
             status})
      .Add();
  request_duration_.With({record.dialect, record.stream ? "true" : "false"})
      .Observe(std::max<int64_t>(0, record.latency_ms));
  if (record.stream && record.ttft_ms) {
    ttft_.With({model}).Observe(std::max<int64_t>(0, *record.ttft_ms));
  }
  overhead_.Observe(std::max<int64_t>(0, overhead.count()));

  // Only attempts carry a tenant label: a record without one (a refusal, a cache hit) takes no
  // place under the bound and is not counted as folded.
  const std::string_view tenant =
      record.attempts.empty() ? std::string_view() : tenants_.Label(record.tenant);
  for (const ledger::Attempt& attempt : record.attempts) {
    attempts_.With({attempt.model, attempt.provider, attempt.deployment, attempt.outcome}).Add();
    if (!attempt.error_code.empty()) {
      attempt_errors_.With({attempt.model, attempt.provider, attempt.error_code}).Add();
    }
    if (const std::string_view result = VerdictResult(attempt.verdict); !result.empty()) {
      verifications_.With({attempt.model, result}).Add();
    }
    CountTokens(tokens_, attempt, tenant);
    if (attempt.cost > core::Money()) {
      cost_.With({attempt.model, attempt.provider, tenant}).Add(attempt.cost);
    }
  }
}

void GatewayMetrics::ObserveAuthFailure(std::string_view reason) {
  auth_failures_.With({reason}).Add();
}

void GatewayMetrics::ObserveLimited(std::string_view tenant, std::string_view limit) {
  limited_.With({tenants_.Label(tenant), limit}).Add();
}

void GatewayMetrics::ObserveCacheLookup(std::string_view tenant, std::string_view result) {
  cache_lookups_.With({tenants_.Label(tenant), result}).Add();
}

void GatewayMetrics::ObserveResponseStoreFailure(std::string_view operation) {
  response_store_failures_.With({operation}).Add();
}

void GatewayMetrics::ObserveShadowDropped(std::string_view profile, std::string_view rule) {
  shadows_.With({profile, rule, "dropped"}).Add();
}

void GatewayMetrics::ObserveShadow(const ledger::Record& shadow) {
  shadows_.With({shadow.profile, shadow.rule, shadow.status == 200 ? "ok" : "failed"}).Add();
  const std::string_view model =
      shadow.chosen_model.empty() ? std::string_view(shadow.requested_model) : shadow.chosen_model;
  if (shadow.cost.pico() != 0)
    shadow_cost_.With({shadow.profile, shadow.rule, model}).Add(shadow.cost);
}

std::string GatewayMetrics::Render(const routing::Health& health, const LedgerStats& ledger,
                                   const std::vector<BudgetUse>& budgets,
                                   const std::vector<RouterCalibration>& routers) const {
  std::string out = registry_.Render();
  RenderScraped(catalog_, health, ledger, budgets, routers, tenants_, out);
  return out;
}

}  // namespace sy::app
