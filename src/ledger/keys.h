// KeyStore: the client keys and tenants tables of the ledger database (SQLite schema v6,
// PostgreSQL v3), and the spend sums that seed the gateway's in-memory budget counters. The same
// interface over either engine.
//
// Storage. Rows live in the ledger database: the SQLite file (created and migrated by
// SqliteLedger::Open) or the PostgreSQL database of database.url (created and migrated by
// PostgresLedger::Open), which every gateway replica shares. KeyStore opens its own connection
// and never creates or migrates (PrepareKeyDatabase does, for the `keys` CLI). A key is stored as
// its HMAC (32 raw bytes: BLOB on SQLite, BYTEA on PostgreSQL); the secret itself never reaches
// this layer. policy_json (budgets, limits, allowed lists) is opaque here: limits/ writes and
// parses it. Both engines answer the same rows in the same order (text sorted byte by byte).
//
// Revision. Every write (InsertKey, UpdateKey, PutTenant) bumps meta.keys_revision in the same
// transaction, so a gateway that polls Revision() sees any process's change (the `keys` CLI works
// on the database directly; on PostgreSQL every replica writes the same row) and reloads Keys()
// and Tenants() only when it moved.
//
// Thread-safety: every method may be called from any thread; one mutex serialises them. Each is
// blocking database I/O (SQLite: up to the busy timeout when another connection holds the write
// lock; PostgreSQL: a network round trip per statement, a write waiting for a concurrent write
// of the same rows): call it off the request workers (start-up, the admin API's blocking pool, a
// reload timer).
// Ownership: owns its connection; independent of a ledger open on the same database.
// Failure: database failures are kInternal errors naming the operation (on PostgreSQL a value
// the server refuses, such as text that is not UTF-8, is kInvalidRequest); nothing is retried (a
// PostgreSQL connection that broke is opened again by the next call). Each write is one
// transaction: a write that fails changes nothing, the revision included (except that a write
// whose PostgreSQL connection broke during its COMMIT may have committed).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/money.h"
#include "core/result.h"

namespace sy::ledger {

struct KeyRow {
  std::string id;      // "key_" + 16 base62
  std::string tenant;  // a tenants.name (not enforced by the table)
  std::string name;    // the operator's label, may be ""
  std::string prefix;  // the first 12 characters of the secret, for listings
  std::string hash;    // HMAC-SHA256(pepper, secret): 32 raw bytes
  // The hash of the secret a rotation replaced, "" when none (NULL in the table); it still
  // authenticates until previous_valid_until_ms.
  std::string previous_hash;
  int64_t previous_valid_until_ms = 0;
  int64_t created_at_ms = 0;
  std::optional<int64_t> revoked_at_ms;  // set: revoked at that time
  std::string policy_json;
};

struct TenantRow {
  std::string name;
  std::string policy_json;
  int64_t created_at_ms = 0;
  int64_t updated_at_ms = 0;
};

struct SpendTotal {
  std::string name;  // a key id or a tenant name
  core::Money cost;
};

class KeyStore {
 public:
  // Opens the keys of the ledger at `location`: an existing SQLite ledger file, or a postgresql://
  // (postgres://) URL whose ledger schema the gateway created (each connection attempt bounded by
  // `connect_timeout`). Fails with kInternal naming the path (or user@host:port/dbname, never a
  // password) when the file is missing or not a ledger, the database is unreachable, or its
  // schema is older than SQLite v6 / PostgreSQL v3 (start the gateway on it, or call
  // PrepareKeyDatabase, to migrate it) or newer than this binary; kInvalidRequest for a malformed
  // URL.
  static core::Result<std::unique_ptr<KeyStore>> Open(
      const std::string& location, std::chrono::seconds connect_timeout = std::chrono::seconds(5));

  virtual ~KeyStore() = default;
  KeyStore(const KeyStore&) = delete;
  KeyStore& operator=(const KeyStore&) = delete;

  // Every key (revoked ones included), ordered by created_at_ms, then id.
  virtual core::Result<std::vector<KeyRow>> Keys() = 0;
  // The key `id`; nullopt when there is none.
  virtual core::Result<std::optional<KeyRow>> Key(std::string_view id) = 0;
  // Every tenant, ordered by name.
  virtual core::Result<std::vector<TenantRow>> Tenants() = 0;

  // Each write returns the keys revision it made (its bump, read in its transaction), so that a
  // writer knows whether any other write came between its own (KeyService applies its own
  // writes in place only then).
  //
  // Fails with kInvalidRequest when a key with this id, or with this hash, exists (on PostgreSQL
  // also when another replica inserted it a moment before: the unique index decides).
  core::Result<int64_t> InsertKey(const KeyRow& row) { return WriteKey(row, /*insert=*/true); }
  // Replaces every column of the key `row.id`. Fails with kNotFound when there is none, and with
  // kInvalidRequest when its new hash is another key's.
  core::Result<int64_t> UpdateKey(const KeyRow& row) { return WriteKey(row, /*insert=*/false); }
  // Inserts the tenant, or, when it exists, replaces its policy_json and updated_at_ms (its
  // created_at_ms stays).
  virtual core::Result<int64_t> PutTenant(const TenantRow& row) = 0;

  // meta.keys_revision: bumped by each write above, from any process or replica.
  virtual core::Result<int64_t> Revision() = 0;

  // Sum of requests.cost_pico per key_id / tenant over the requests with started_at_ms >=
  // since_ms, ordered by name; requests without a key id / tenant ("") are left out. Used to seed
  // the budget counters at start-up (a scan of the started_at_ms index range). On PostgreSQL the
  // requests of every replica. Exact, except that a sum past int64 is held at INT64_MAX
  // pico-dollars (rows with a saturated cost) instead of failing: spent, for any budget.
  core::Result<std::vector<SpendTotal>> SpendByKeySince(int64_t since_ms) {
    return SpendSince("key_id", since_ms);
  }
  core::Result<std::vector<SpendTotal>> SpendByTenantSince(int64_t since_ms) {
    return SpendSince("tenant", since_ms);
  }

 protected:
  KeyStore() = default;
  // InsertKey (`insert`) or UpdateKey, and the revision bump, in one transaction; the revision
  // it made.
  virtual core::Result<int64_t> WriteKey(const KeyRow& row, bool insert) = 0;
  // `column` is "key_id" or "tenant", never client text.
  virtual core::Result<std::vector<SpendTotal>> SpendSince(const char* column,
                                                           int64_t since_ms) = 0;
};

// True when `location` is a postgresql:// or postgres:// URL (KeyStore::Open's choice of engine),
// false for a SQLite file path.
bool IsPostgresLocation(const std::string& location);

// Creates the ledger database at `location` if needed and creates or migrates its schema, without
// starting a ledger: a SQLite file (PrepareSqliteFile) or a postgresql:// URL (as the gateway's
// start does, under the same advisory lock). For the `keys` CLI on a database no gateway has
// opened yet. Safe while gateways use it. Fails as KeyStore::Open does.
core::Status PrepareKeyDatabase(const std::string& location,
                                std::chrono::seconds connect_timeout = std::chrono::seconds(5));

}  // namespace sy::ledger
