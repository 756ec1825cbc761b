// app::GatewayMetrics: the gateway's Prometheus metrics (GET /metrics), every one listed with
// its labels in docs/metrics.md.
//
// Request metrics are counted from the ledger record the Record stage built, so the counters
// equal the ledger's sums: tokens and USD per attempt (failover and escalation included, under
// the attempt's own model and provider), USD exact to the pico-dollar. Health, ledger and budget
// figures are read when scraped.
//
// Labels carry only bounded values: dialects, endpoints, profiles, rules and models from the
// config, HTTP statuses, error codes, operator-created tenant names. Never request ids, keys or
// key ids. Tenants are as many as an operator creates, so at most metrics.max_tenant_labels of
// them get series of their own, the first seen; later ones are counted under tenant="(other)"
// (metrics::LabelCap), and the budget gauges show that many tenants, those nearest a limit.
// "(other)" is no tenant's name: names are letters, digits, ".", "_" and "-" (ValidTenant in
// key_service.cpp). A model label is "none" when no model answered; other empty fields stay
// empty labels.
//
// Thread-safety: Observe* may be called from any worker thread concurrently with each other and
// with Render. Lifetime: `catalog` must outlive this object.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "catalog/catalog.h"
#include "core/money.h"
#include "ledger/record.h"
#include "metrics/label_cap.h"
#include "metrics/registry.h"
#include "routing/health.h"

namespace sy::app {

// The ledger writer's figures at scrape time.
struct LedgerStats {
  uint64_t queued = 0;                               // records waiting to be written now
  uint64_t written = 0, lost = 0, write_errors = 0;  // since start
  // The access log's lines dropped because its queue was full (the ledger itself drops nothing).
  uint64_t access_log_dropped = 0;
  uint64_t spilled_total = 0;  // records ever spilled (since start)
  uint64_t spill_records = 0;  // in the spill file now, waiting for the database
  uint64_t spill_bytes = 0;    // the spill file's size now
  uint64_t rejected = 0;       // records the database refused, set aside (since start)
  uint64_t batches = 0;        // transactions the writer committed (since start)
  // Rows retention deleted (ledger.retention_days), and its failed passes (since start).
  uint64_t rows_pruned = 0, prune_errors = 0;
  // The stored responses' expiry sweeps (responses.store on), since start.
  bool response_store = false;
  uint64_t responses_swept = 0, response_sweep_failures = 0;
  // shared_state.redis_url: whether the last call to Redis worked (-1: not configured), and
  // the calls that failed since start.
  int shared_state_up = -1;
  uint64_t shared_state_failures = 0;
};

// One budget of a tenant at scrape time.
struct BudgetUse {
  std::string tenant;
  std::string window;  // "day" | "month"
  core::Money spent;
  core::Money limit;
};

// A `router` rule's live calibration at scrape time (`calibration: live`).
struct RouterCalibration {
  std::string profile;
  std::string rule;
  double threshold = 0;     // in force now
  double strong_share = 0;  // held now (a budget's moves with the traffic's usage)
};

class GatewayMetrics {
 public:
  explicit GatewayMetrics(const catalog::Catalog& catalog);

  // Once per recorded request, from any worker thread: the ledger record the Record stage built
  // (so the counters equal the ledger's sums) and the gateway's own overhead (wall time minus
  // the time spent waiting on upstreams; negative counts as 0).
  void Observe(const ledger::Record& record, std::chrono::microseconds overhead);
  // reason: "missing" | "invalid" | "revoked" | "forbidden".
  void ObserveAuthFailure(std::string_view reason);
  // limit: "requests" | "tokens" | "budget_day" | "budget_month"; tenant as configured.
  void ObserveLimited(std::string_view tenant, std::string_view limit);
  // A lookup of the response cache (a rule's cache): result "hit" | "miss"; tenant as configured.
  void ObserveCacheLookup(std::string_view tenant, std::string_view result);
  // A response store call that failed (the database, or its pool full): operation "write" (an
  // answer not stored) | "read" (a conversation, GET or DELETE answered with an error).
  void ObserveResponseStoreFailure(std::string_view operation);
  // A live request a rule's `shadow` sampled: result "dropped" (over
  // routing.shadow_max_in_flight, not sent), or from the shadow's own record once it ends ("ok"
  // or "failed", its cost under the shadow model). The record's profile and rule are the live
  // request's. Shadows are kept out of the request metrics.
  void ObserveShadowDropped(std::string_view profile, std::string_view rule);
  void ObserveShadow(const ledger::Record& shadow);

  // The whole exposition (text format 0.0.4); health, ledger, budgets and the routers' live
  // calibrations are read now.
  // REQUIRES: health has a slot for every deployment of the catalog (routing::HealthFor).
  std::string Render(const routing::Health& health, const LedgerStats& ledger,
                     const std::vector<BudgetUse>& budgets,
                     const std::vector<RouterCalibration>& routers) const;

 private:
  const catalog::Catalog& catalog_;
  metrics::LabelCap tenants_;
  metrics::Registry registry_;
  metrics::Family<metrics::Counter>& requests_;
  metrics::Family<metrics::Counter>& attempts_;
  metrics::Family<metrics::Counter>& attempt_errors_;
  metrics::Family<metrics::Counter>& verifications_;
  metrics::Family<metrics::Histogram>& request_duration_;
  metrics::Family<metrics::Histogram>& ttft_;
  metrics::Histogram& overhead_;
  metrics::Family<metrics::Counter>& tokens_;
  metrics::Family<metrics::UsdCounter>& cost_;
  metrics::Family<metrics::Counter>& auth_failures_;
  metrics::Family<metrics::Counter>& limited_;
  metrics::Family<metrics::Counter>& cache_lookups_;
  metrics::Family<metrics::Counter>& response_store_failures_;
  metrics::Family<metrics::Counter>& shadows_;
  metrics::Family<metrics::UsdCounter>& shadow_cost_;
};

}  // namespace sy::app
