#include "app/runner.h"

#include <csignal>
#include <cstdio>
#include <thread>

#include "app/access_log.h"
#include "app/auth.h"
#include "app/gateway.h"
#include "app/key_service.h"
#include "cache/cache.h"
#include "catalog/catalog.h"
#include "core/clock.h"
#include "core/cpus.h"
#include "http/blocking_pool.h"
#include "http/server.h"
#include "ledger/feedback.h"
#include "ledger/postgres_ledger.h"
#include "ledger/response_store.h"
#include "ledger/sqlite_ledger.h"
#include "shared/counters.h"
#include "shared/health_share.h"

namespace sy::app {

void BlockStopSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

int WaitForStopSignal() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  int signal = 0;
  sigwait(&set, &signal);
  return signal;
}

namespace {

http::ServerOptions ServerOptionsFrom(const config::ServerConfig& server) {
  http::ServerOptions options;
  options.listen = server.listen;
  options.threads = server.threads > 0 ? server.threads : core::UsableCpus();
  options.max_body_bytes = server.max_body_bytes;
  options.max_header_bytes = server.max_header_bytes;
  options.request_read_timeout = server.request_read_timeout;
  options.idle_timeout = server.idle_timeout;
  options.max_connections = server.max_connections;
  options.max_buffered_body_bytes = server.max_buffered_body_bytes;
  options.max_buffered_answer_bytes = server.max_buffered_answer_bytes;
  options.cancel_wait = server.cancel_wait;
  return options;
}

// The request ledger: PostgreSQL when database.url is set, else the SQLite file.
core::Result<std::unique_ptr<ledger::BatchLedger>> OpenLedger(const config::Config& config) {
  const config::LedgerConfig& l = config.ledger;
  const auto spill_max_bytes = static_cast<uint64_t>(l.spill_max_bytes);
  const std::chrono::hours retention(24 * l.retention_days);
  if (!config.database.url.empty()) {
    // Its own default file: a spill is replayed into the engine that spilled it.
    const std::string spill_path =
        l.spill_path.empty() ? l.sqlite_path + ".postgres.spill" : l.spill_path;
    ledger::PostgresLedger::Options options;
    options.url = config.database.url;
    options.connect_timeout = config.database.connect_timeout;
    options.queue.batch_size = static_cast<size_t>(l.batch_size);
    options.queue.flush_interval = l.flush_interval;
    options.queue.queue_capacity = static_cast<size_t>(l.queue_capacity);
    options.queue.spill_path = spill_path;
    options.queue.spill_max_bytes = spill_max_bytes;
    options.queue.retention = retention;
    auto opened = ledger::PostgresLedger::Open(options);
    if (!opened) return std::move(opened).error();
    return std::unique_ptr<ledger::BatchLedger>(std::move(*opened));
  }
  const std::string spill_path = l.spill_path.empty() ? l.sqlite_path + ".spill" : l.spill_path;
  ledger::SqliteLedger::Options options;
  options.path = l.sqlite_path;
  options.batch_size = static_cast<size_t>(l.batch_size);
  options.flush_interval = l.flush_interval;
  options.queue_capacity = static_cast<size_t>(l.queue_capacity);
  options.spill_path = spill_path;
  options.spill_max_bytes = spill_max_bytes;
  options.retention = retention;
  auto opened = ledger::SqliteLedger::Open(options);
  if (!opened) return std::move(opened).error();
  return std::unique_ptr<ledger::BatchLedger>(std::move(*opened));
}

// Reports and admin writes: two threads, so one slow report leaves room for an admin call.
constexpr int kBlockingThreads = 2;
// The in-process response cache (without Redis): its bound on memory, keys and bodies counted.
constexpr size_t kMemoryCacheBytes = size_t{64} << 20;

bool AnyRuleCaches(const config::RoutingConfig& routing) {
  for (const auto& profile : routing.profiles) {
    for (const auto& rule : profile.rules) {
      if (rule.cache) return true;
    }
  }
  return false;
}
constexpr int kMaxBlockingJobs = 64;
// The response store's calls (a conversation read before routing, a write before the answer):
// a pool of their own, so a slow report never delays a Responses request. On PostgreSQL each
// thread has its own connection (ResponseStore::Options::connections). Every waiting job is a
// request in flight, so the queue is bounded by the connections too; past it, 503.
constexpr int kStoreThreads = 4;
constexpr int kMaxStoreJobs = 256;

int Fail(std::string_view what, const core::Error& error) {
  std::fprintf(stderr, "switchyard: %.*s%s\n", static_cast<int>(what.size()), what.data(),
               error.message.c_str());
  return 2;
}

}  // namespace

int RunGateway(config::Config config, const std::function<void(const std::string&)>& on_ready) {
  // Before any thread starts (the ledger writer, the workers): a thread that has not blocked
  // them would take SIGTERM's default action and kill the process without draining.
  BlockStopSignals();
  auto shared = std::make_shared<const config::Config>(std::move(config));
  auto catalog = catalog::Catalog::Build(shared);
  if (!catalog) {
    std::fprintf(stderr, "switchyard: %s\n", catalog.error().message.c_str());
    return 2;
  }
  auto policy = routing::Policy::Build(**catalog);
  if (!policy) {
    std::fprintf(stderr, "switchyard: %s\n", policy.error().message.c_str());
    return 2;
  }
  // The SQLite file is created and migrated either way: keys, feedback and stored responses live
  // in it whichever database holds the request ledger.
  if (!shared->database.url.empty()) {
    if (auto s = ledger::PrepareSqliteFile(shared->ledger.sqlite_path); !s) {
      return Fail("ledger: ", s.error());
    }
  }
  auto ledger = OpenLedger(*shared);
  if (!ledger) {
    std::fprintf(stderr, "switchyard: ledger: %s\n", ledger.error().message.c_str());
    return 2;
  }
  // Budgets are seeded from the database below: a spill the last run left goes in first, or its
  // spend would be missing from today's and this month's counters.
  if (const uint64_t left = (*ledger)->ReplaySpilled(); left > 0) {
    std::fprintf(stderr,
                 "switchyard: warning: %llu spilled ledger records could not be replayed yet; "
                 "budgets start without their spend\n",
                 static_cast<unsigned long long>(left));
  }
  // After the ledger, which creates the database and migrates its schema. In the shared database
  // when there is one: a conversation continues on any replica.
  std::unique_ptr<ledger::ResponseStore> responses;
  if (shared->responses.store) {
    ledger::ResponseStore::Options options;
    options.location =
        shared->database.url.empty() ? shared->ledger.sqlite_path : shared->database.url;
    options.retention = shared->responses.retention;
    options.max_bytes_per_owner = shared->responses.max_stored_bytes_per_key;
    options.connections = kStoreThreads;
    auto store = ledger::ResponseStore::Open(options);
    if (!store) {
      std::fprintf(stderr, "switchyard: responses store: %s\n", store.error().message.c_str());
      return 2;
    }
    responses = std::move(*store);
  }
  const core::SystemClock clock;
  std::unique_ptr<KeyService> keys;
  if (shared->auth.mode == "keys") {
    auto opened = KeyService::Open(**catalog, *policy, clock);
    if (!opened) return Fail("keys: ", opened.error());
    keys = std::move(*opened);
  }
  // Shared counters only count client keys' limits: without keys there is nothing to share.
  std::unique_ptr<shared::Counters> counters;
  if (keys && !shared->shared_state.redis_url.empty()) {
    auto opened = shared::Counters::Open(shared->shared_state, clock);
    if (!opened) return Fail("shared_state: ", opened.error());
    counters = std::move(*opened);
  }
  // The response cache, when a rule caches: shared in Redis with shared_state, else in-process.
  std::unique_ptr<cache::Store> response_cache;
  if (AnyRuleCaches(shared->routing)) {
    if (shared->shared_state.redis_url.empty()) {
      response_cache = cache::MemoryStore(kMemoryCacheBytes);
    } else {
      auto opened = cache::RedisStore(shared->shared_state);
      if (!opened) return Fail("shared_state: ", opened.error());
      response_cache = std::move(*opened);
    }
  }
  const core::SecretScrubber secrets(config::SecretValues(*shared));
  std::unique_ptr<AccessLog> access_log;
  if (shared->access_log.enabled) {
    auto opened = AccessLog::Open(shared->access_log, secrets);
    if (!opened) return Fail("", opened.error());
    access_log = std::move(*opened);
  }
  // Feedback lives with the request ledger it rates.
  auto feedback = ledger::FeedbackStore::Open(
      shared->database.url.empty() ? shared->ledger.sqlite_path : shared->database.url);
  if (!feedback) return Fail("feedback: ", feedback.error());
  http::BlockingPool blocking(kBlockingThreads, kMaxBlockingJobs);
  http::BlockingPool store_pool(kStoreThreads, kMaxStoreJobs);
  auto* sink = ledger->get();
  GatewayParts parts;
  parts.keys = keys.get();
  parts.counters = counters.get();
  parts.cache = response_cache.get();
  parts.access_log = access_log.get();
  parts.blocking = &blocking;
  parts.store_pool = &store_pool;
  parts.feedback = std::move(*feedback);
  parts.flush_ledger = [sink] { sink->Flush(); };
  parts.ledger_stats = [sink, log = access_log.get(), shared_counters = counters.get(),
                        store = responses.get()] {
    LedgerStats stats;
    stats.queued = sink->queued();
    stats.written = sink->records_written();
    stats.lost = sink->records_lost();
    stats.write_errors = sink->write_errors();
    stats.access_log_dropped = log ? log->dropped() : 0;
    stats.spilled_total = sink->records_spilled();
    stats.spill_records = sink->spilled();
    stats.spill_bytes = sink->spill_bytes();
    stats.rejected = sink->records_rejected();
    stats.batches = sink->batches_written();
    stats.rows_pruned = sink->rows_pruned();
    stats.prune_errors = sink->prune_errors();
    if (store) {
      stats.response_store = true;
      stats.responses_swept = store->rows_swept();
      stats.response_sweep_failures = store->sweep_errors();
    }
    if (shared_counters) {
      stats.shared_state_up = shared_counters->up() ? 1 : 0;
      stats.shared_state_failures = static_cast<uint64_t>(shared_counters->failures());
    }
    return stats;
  };
  Gateway gateway(*catalog, std::move(*policy), **ledger, clock, responses.get(), std::move(parts));
  // Cool-downs and open breakers seen by every replica; stopped before the gateway goes.
  std::unique_ptr<shared::HealthShare> health_share;
  if (!shared->shared_state.redis_url.empty()) {
    auto started = shared::HealthShare::Start(shared->shared_state, gateway.health());
    if (!started) return Fail("shared_state: ", started.error());
    health_share = std::move(*started);
  }
  if (auto warning = OpenMetricsWarning(*shared)) {
    std::fprintf(stderr, "switchyard: warning: %s\n", warning->c_str());
  }
  for (const auto& [provider, reason] : gateway.unavailable_providers()) {
    std::fprintf(stderr, "switchyard: warning: provider %s unavailable: %s\n", provider.c_str(),
                 reason.c_str());
  }
  auto server =
      http::Server::Start(ServerOptionsFrom(shared->server),
                          [&gateway](http::ServerRequest& req, http::ResponseWriter& writer) {
                            return gateway.Handle(req, writer);
                          });
  if (!server) {
    std::fprintf(stderr, "switchyard: %s\n", server.error().message.c_str());
    return 2;
  }
  on_ready((*server)->address());
  const int signal = WaitForStopSignal();
  std::fprintf(stderr, "switchyard: %s received, draining\n",
               signal == SIGTERM ? "SIGTERM" : "SIGINT");
  gateway.SetDraining();
  (*server)->Stop(shared->server.shutdown_grace);
  // Jobs still running on the pools post their completions to the workers' io_contexts, which
  // the server destroys with itself: let them finish first (BlockingPool, "Lifetime"). Shared
  // counters give their allowances back here.
  health_share.reset();
  counters.reset();
  response_cache.reset();
  blocking.Drain();
  store_pool.Drain();
  (*ledger)->Close();
  std::fprintf(stderr, "switchyard: stopped; %llu ledger records written\n",
               static_cast<unsigned long long>((*ledger)->records_written()));
  return 0;
}

}  // namespace sy::app
