// KeyStore: the client keys and tenants tables of the ledger database (schema v6), and the spend
// sums that seed the gateway's in-memory budget counters.
//
// Storage. Rows live in the ledger's SQLite file, created and migrated by SqliteLedger::Open;
// KeyStore opens its own read-write connection (WAL, busy timeout) and never creates or migrates.
// A key is stored as its HMAC (32 raw bytes, BLOB); the secret itself never reaches this layer.
// policy_json (budgets, limits, allowed lists) is opaque here: limits/ writes and parses it.
//
// Revision. Every write (InsertKey, UpdateKey, PutTenant) bumps meta.keys_revision in the same
// transaction, so a gateway that polls Revision() sees any process's change (the `keys` CLI works
// on the file directly) and reloads Keys() and Tenants() only when it moved.
//
// Thread-safety: every method may be called from any thread; one mutex serialises them. Each is
// blocking SQLite I/O (up to the busy timeout when another connection holds the write lock): call
// it off the request workers (start-up, the admin API's blocking pool, a reload timer).
// Ownership: owns its connection; independent of a SqliteLedger open on the same file.
// Failure: SQLite failures are kInternal errors naming the operation; nothing is retried.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/money.h"
#include "core/result.h"

namespace sy::ledger {

namespace detail {
class Db;
}  // namespace detail

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
  // Opens the existing ledger database at `path`. Fails with kInternal naming the path when the
  // file is missing, is not a ledger, or its schema is older than v6 (open it with the gateway,
  // SqliteLedger::Open, to migrate it) or newer than this binary.
  static core::Result<std::unique_ptr<KeyStore>> Open(const std::string& path);

  ~KeyStore();
  KeyStore(const KeyStore&) = delete;
  KeyStore& operator=(const KeyStore&) = delete;

  // Every key (revoked ones included), ordered by created_at_ms, then id.
  core::Result<std::vector<KeyRow>> Keys();
  // Every tenant, ordered by name.
  core::Result<std::vector<TenantRow>> Tenants();

  // Fails with kInvalidRequest when a key with this id, or with this hash, exists.
  core::Status InsertKey(const KeyRow& row);
  // Replaces every column of the key `row.id`. Fails with kNotFound when there is none, and with
  // kInvalidRequest when its new hash is another key's.
  core::Status UpdateKey(const KeyRow& row);
  // Inserts the tenant, or, when it exists, replaces its policy_json and updated_at_ms (its
  // created_at_ms stays).
  core::Status PutTenant(const TenantRow& row);

  // meta.keys_revision: bumped by each write above, from any process.
  core::Result<int64_t> Revision();

  // Sum of requests.cost_pico per key_id / tenant over the requests with started_at_ms >=
  // since_ms, ordered by name; requests without a key id / tenant ("") are left out. Used to seed
  // the budget counters at start-up (a scan of the started_at_ms index range).
  core::Result<std::vector<SpendTotal>> SpendByKeySince(int64_t since_ms);
  core::Result<std::vector<SpendTotal>> SpendByTenantSince(int64_t since_ms);

 private:
  explicit KeyStore(std::unique_ptr<detail::Db> db);
  // Runs `write` and the revision bump in one BEGIN IMMEDIATE transaction.
  template <typename Write>
  core::Status WriteLocked(const Write& write);
  core::Result<std::vector<SpendTotal>> SpendSince(const char* column, int64_t since_ms);

  std::mutex mu_;
  std::unique_ptr<detail::Db> db_;  // guarded by mu_
};

}  // namespace sy::ledger
