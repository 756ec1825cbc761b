// ResponseStore: the stored responses of POST /v1/responses, so that a client can continue a
// conversation with `previous_response_id` (and GET or DELETE a response it stored). The same
// interface over either engine of the ledger database.
//
// Storage. Rows live in the `responses` table of the ledger database: the SQLite file (schema v4,
// created by the ledger's migrations: see ledger/detail/schema.h) or the PostgreSQL database of
// database.url (schema v4, ledger/detail/postgres.h), which every gateway replica shares, so a
// conversation started on one replica continues on any other. Put is one INSERT in its own
// transaction, committed when Put returns: the client may send the next turn the moment it has
// the answer, so the row must be readable (by every replica) by then. On SQLite (WAL,
// synchronous=NORMAL) a commit does not fsync: a process crash keeps committed rows, a power loss
// may lose the last ones (as for the ledger); on PostgreSQL the server's own durability applies.
//
// Scope. Every row has an owner (the caller's key id, core::Request::key_id; "" while no keys are
// configured). Get, Conversation and Delete only see the caller's own rows; another owner's row
// is indistinguishable from an absent one.
//
// Quota. An owner stores up to Options::max_bytes_per_owner (a client would otherwise fill the
// disk at its request rate times the body limit for the whole retention). The table
// response_owners holds each owner's bytes, kept by database triggers on every insert and
// delete (schema v10; PostgreSQL v8), so a put checks them in the same statement as it inserts.
//
// Retention. A row expires `retention` after its created_at; an expired row is never returned.
// Expired rows are deleted by Sweep, which Put also runs lazily (a bounded Sweep every
// Options::sweep_every_puts puts or after sweep_interval, whichever comes first), so storage
// stays bounded by retention without a timer thread. The lazy sweep deletes up to
// Options::sweep_limit rows, twice the puts between sweeps by default, so it outpaces the puts;
// it runs on the putting thread, so the limit also bounds that put's extra latency (256 rows of
// ~7 KB: ~1.5-5 ms measured on SQLite, secure_delete=FAST). On PostgreSQL one replica sweeps at a
// time: a sweep that finds another one running deletes nothing (their triggers could otherwise
// lock owners' byte counts in opposite orders).
//
// Blocking. Every method is blocking database I/O (SQLite: up to the busy timeout while the
// ledger writes; PostgreSQL: one network round trip, Conversation included): call them off the
// request workers (the gateway runs them on its blocking pool).
// Thread-safety: every method may be called concurrently from any thread. SQLite: one connection
// behind a mutex, calls serialised (each is one or a few indexed statements). PostgreSQL:
// Options::connections connections, one call on each at a time.
// Ownership: owns its connections; independent of a ledger open on the same database.
// Failure: database failures are kInternal errors naming the operation; nothing is retried (a
// PostgreSQL connection that broke is opened again by the next call that needs it).
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace sy::ledger {

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
    // The ledger database: a SQLite file (created, 0600, and migrated if needed) or a
    // postgresql:// (postgres://) URL whose schema the gateway's PostgresLedger migrated.
    std::string location{};
    std::chrono::hours retention{24 * 30};         // config.responses.retention
    std::chrono::milliseconds busy_timeout{1000};  // SQLite's wait while the ledger writes
    int connections = 4;                           // PostgreSQL: calls that can run at once
    std::chrono::seconds connect_timeout{5};       // PostgreSQL: each connection attempt
    int64_t sweep_every_puts = 128;                // lazy sweep after this many puts ...
    std::chrono::seconds sweep_interval{60};       // ... or this long after the last sweep
    int64_t sweep_limit = 256;                     // rows deleted by one lazy sweep
    // config.responses.max_stored_bytes_per_key: an owner whose stored responses hold this many
    // bytes (input, output and Response JSON) or more stores no more until some are deleted or
    // expire. Checked before each put, so an owner may pass it by one response.
    int64_t max_bytes_per_owner = int64_t{1} << 30;
  };

  // Opens the store in the database at options.location. Fails with kInvalidRequest when an
  // option is not positive or the URL is malformed; with kInternal naming the path (or
  // user@host:port/dbname, never a password) when the file cannot be opened or created, is not a
  // database, the server is unreachable, or the schema is newer than this binary (or, on
  // PostgreSQL, older than v4: the gateway's ledger migrates it first).
  static core::Result<std::unique_ptr<ResponseStore>> Open(const Options& options);
  // Open({.location = location, .retention = retention}).
  static core::Result<std::unique_ptr<ResponseStore>> Open(const std::string& location,
                                                           std::chrono::hours retention);

  virtual ~ResponseStore() = default;
  ResponseStore(const ResponseStore&) = delete;
  ResponseStore& operator=(const ResponseStore&) = delete;

  // When due, sweeps up to sweep_limit expired rows (taking created_at as now; a failing sweep
  // is reported on stderr and counted, and does not fail the Put). Then stores `response`; it
  // expires at created_at + retention. Fails with StoreFull (kInvalidRequest, param "store") when
  // its owner already holds max_bytes_per_owner, storing nothing; with kInternal when the row
  // cannot be written, including when the id is already stored (ids are unique by construction:
  // that is a bug).
  core::Status Put(const StoredResponse& response);

  // The bytes the owner's stored responses hold (expired ones not yet swept included).
  virtual core::Result<int64_t> StoredBytes(std::string_view owner) = 0;
  // Whether a put found the owner full and no CheckRoom has found room since: no I/O. A request
  // asks it first, so that only a full owner's requests read the database (CheckRoom).
  bool FoundFull(std::string_view owner) const;
  // StoreFull when the owner holds max_bytes_per_owner or more (a delete or the sweep, on any
  // replica, may have made room since a put found it full: it is read again).
  core::Status CheckRoom(std::string_view owner);

  // The owner's live response `id`; nullopt when absent, expired, or owned by another owner
  // (indistinguishable to the caller). Fails only on database errors (kInternal).
  virtual core::Result<std::optional<StoredResponse>> Get(
      std::string_view id, std::string_view owner, std::chrono::system_clock::time_point now) = 0;

  // The conversation ending with `id`: every turn from the first to `id`, oldest first (walks
  // previous_id; on PostgreSQL in one query). The turns' response_json is left empty: rebuilding
  // the conversation needs only the input and output items, and the Response objects would
  // double what is read. Fails kNotFound (param "previous_response_id") when `id` or any turn on
  // the way is absent, expired or not the owner's; kInvalidRequest (same param) when the chain
  // has more than `max_turns` turns or their input and output items exceed `max_bytes` in total
  // (the bound on what one request expands to; checked before each turn's items are copied).
  virtual core::Result<std::vector<StoredResponse>> Conversation(
      std::string_view id, std::string_view owner, std::chrono::system_clock::time_point now,
      size_t max_turns, size_t max_bytes) = 0;

  // Deletes the owner's response `id`. Returns false when there was no live one (absent,
  // another owner's, or expired: like Get; an expired row is deleted all the same). Takes `now`
  // so that a response GET calls absent is absent to DELETE too.
  virtual core::Result<bool> Delete(std::string_view id, std::string_view owner,
                                    std::chrono::system_clock::time_point now) = 0;

  // Deletes expired rows (expires_at <= now), oldest expiry first, at most `limit` per call;
  // returns how many. REQUIRES: limit > 0.
  core::Result<int64_t> Sweep(std::chrono::system_clock::time_point now, int64_t limit);

  // Counters for metrics; monotonic, relaxed.
  uint64_t rows_swept() const { return rows_swept_.load(std::memory_order_relaxed); }
  uint64_t sweep_errors() const { return sweep_errors_.load(std::memory_order_relaxed); }

 protected:
  explicit ResponseStore(Options options) : options_(std::move(options)) {}
  const Options& options() const { return options_; }

  // The engine's INSERT of one row, expiring at expires_at_ms, unless its owner holds
  // max_bytes_per_owner already (StoreFull).
  virtual core::Status Insert(const StoredResponse& response, int64_t expires_at_ms) = 0;
  // The engine's DELETE of at most `limit` expired rows; how many it deleted.
  virtual core::Result<int64_t> DeleteExpired(int64_t now_ms, int64_t limit) = 0;

 private:
  // Counts a put; true when it is time for a lazy sweep (and starts the next period).
  bool SweepDue(std::chrono::system_clock::time_point now);

  const Options options_;
  std::mutex sweep_mu_;
  int64_t puts_since_sweep_ = 0;                      // guarded by sweep_mu_
  std::chrono::system_clock::time_point last_sweep_;  // guarded by sweep_mu_; epoch: never

  std::atomic<uint64_t> rows_swept_{0};
  std::atomic<uint64_t> sweep_errors_{0};
  // Owners a put found full, until CheckRoom finds room: at most one entry per key.
  mutable std::mutex full_mu_;
  // Ordered with a transparent comparator: a request's check looks its key up without a copy.
  std::set<std::string, std::less<>> found_full_;  // guarded by full_mu_
};

}  // namespace sy::ledger
