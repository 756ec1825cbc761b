// ResponseStore: the stored responses of POST /v1/responses, so that a client can continue a
// conversation with `previous_response_id` (and GET or DELETE a response it stored).
//
// Storage. Rows live in the `responses` table of the ledger's SQLite file (schema v4, created by
// the ledger's migrations: see ledger/detail/schema.h), on the store's own connection (WAL,
// synchronous=NORMAL, busy timeout: the ledger's writer thread shares the file). Put is one
// prepared INSERT in its own transaction, synchronous: the client may send the next turn the
// moment it has the answer, so the row must be readable when Put returns. With WAL and
// synchronous=NORMAL a commit does not fsync; a process crash keeps committed rows, a power loss
// may lose the last ones (as for the ledger).
//
// Scope. Every row has an owner (the caller's key id, core::Request::key_id; "" while no keys are
// configured). Get, Conversation and Delete only see the caller's own rows; another owner's row
// is indistinguishable from an absent one.
//
// Retention. A row expires `retention` after its created_at; an expired row is never returned.
// Expired rows are deleted by Sweep, which Put also runs lazily (a bounded Sweep every
// Options::sweep_every_puts puts or after sweep_interval, whichever comes first), so storage
// stays bounded by retention without a timer thread. The lazy sweep deletes up to
// Options::sweep_limit rows, twice the puts between sweeps by default, so it outpaces the puts;
// it runs on the putting thread, so the limit also bounds that put's extra latency (256 rows of
// ~7 KB: ~1.5-5 ms measured, secure_delete=FAST).
//
// Thread-safety: every method may be called concurrently from any thread (the worker threads);
// one mutex guards the connection, so calls are serialised (each is one or a few indexed
// statements).
// Ownership: owns its connection; independent of the SqliteLedger open on the same file.
// Failure: SQLite failures (I/O, disk full, locked past the busy timeout) are kInternal errors
// naming the operation; nothing is retried here.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace sy::ledger {

namespace detail {
class Db;
}  // namespace detail

struct StoredResponse {
  std::string id;             // "resp_..."; unique (the gateway generates it)
  std::string owner;          // key id; "" = no keys configured
  std::string previous_id;    // the previous_response_id it continued, "" when none
  std::string input_json;     // JSON array: this turn's own input items (instructions excluded)
  std::string output_json;    // JSON array: the response's output items
  std::string response_json;  // the Response object as served to the client
  std::chrono::system_clock::time_point created_at;
};

class ResponseStore {
 public:
  struct Options {
    std::string path;                       // the ledger's SQLite file; created (0600) if missing
    std::chrono::hours retention{24 * 30};  // config.responses.retention
    std::chrono::milliseconds busy_timeout{1000};  // SQLite's wait while the ledger writes
    int64_t sweep_every_puts = 128;                // lazy sweep after this many puts ...
    std::chrono::seconds sweep_interval{60};       // ... or this long after the last sweep
    int64_t sweep_limit = 256;                     // rows deleted by one lazy sweep
  };

  // Opens (creating the file and migrating its schema if needed) the store in the SQLite file
  // at options.path. Fails with kInvalidRequest when an option is not positive, and with
  // kInternal naming the path when the file cannot be opened or created, is not a database, or
  // has a newer schema.
  static core::Result<std::unique_ptr<ResponseStore>> Open(const Options& options);
  // Open({.path = path, .retention = retention}).
  static core::Result<std::unique_ptr<ResponseStore>> Open(const std::string& path,
                                                           std::chrono::hours retention);

  ~ResponseStore();
  ResponseStore(const ResponseStore&) = delete;
  ResponseStore& operator=(const ResponseStore&) = delete;

  // Stores `response`; it expires at created_at + retention. Then, when due, sweeps up to
  // sweep_limit expired rows (taking created_at as now); a failing sweep is reported on stderr
  // and counted, and does not fail the Put. Fails with kInternal when the row cannot be written,
  // including when the id is already stored (ids are unique by construction: that is a bug).
  core::Status Put(const StoredResponse& response);

  // The owner's live response `id`; nullopt when absent, expired, or owned by another owner
  // (indistinguishable to the caller). Fails only on SQLite errors (kInternal).
  core::Result<std::optional<StoredResponse>> Get(std::string_view id, std::string_view owner,
                                                  std::chrono::system_clock::time_point now);

  // The conversation ending with `id`: every turn from the first to `id`, oldest first (walks
  // previous_id). The turns' response_json is left empty: rebuilding the conversation needs
  // only the input and output items, and the Response objects would double what is read.
  // Fails kNotFound (param "previous_response_id") when `id` or any turn on the way is absent,
  // expired or not the owner's; kInvalidRequest (same param) when the chain has more than
  // `max_turns` turns or their input and output items exceed `max_bytes` in total (the bound on
  // what one request expands to; checked before each turn's items are copied).
  core::Result<std::vector<StoredResponse>> Conversation(std::string_view id,
                                                         std::string_view owner,
                                                         std::chrono::system_clock::time_point now,
                                                         size_t max_turns, size_t max_bytes);

  // Deletes the owner's response `id`. Returns false when there was no live one (absent,
  // another owner's, or expired: like Get; an expired row is deleted all the same). Takes `now`
  // so that a response GET calls absent is absent to DELETE too.
  core::Result<bool> Delete(std::string_view id, std::string_view owner,
                            std::chrono::system_clock::time_point now);

  // Deletes expired rows (expires_at <= now), oldest expiry first, at most `limit` per call;
  // returns how many. REQUIRES: limit > 0.
  core::Result<int64_t> Sweep(std::chrono::system_clock::time_point now, int64_t limit);

  // Counters for metrics; monotonic, relaxed.
  uint64_t rows_swept() const { return rows_swept_.load(std::memory_order_relaxed); }
  uint64_t sweep_errors() const { return sweep_errors_.load(std::memory_order_relaxed); }

 private:
  struct Statements;

  ResponseStore(Options options, std::unique_ptr<detail::Db> db,
                std::unique_ptr<Statements> statements);

  // REQUIRES: mu_ held.
  core::Result<int64_t> SweepLocked(int64_t now_ms, int64_t limit);
  void MaybeSweepLocked(std::chrono::system_clock::time_point now);

  const Options options_;
  std::mutex mu_;
  std::unique_ptr<detail::Db> db_;                    // guarded by mu_
  std::unique_ptr<Statements> statements_;            // guarded by mu_; destroyed before db_
  int64_t puts_since_sweep_ = 0;                      // guarded by mu_
  std::chrono::system_clock::time_point last_sweep_;  // guarded by mu_; epoch: never

  std::atomic<uint64_t> rows_swept_{0};
  std::atomic<uint64_t> sweep_errors_{0};
};

}  // namespace sy::ledger
