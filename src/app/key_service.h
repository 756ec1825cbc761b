// app::KeyService: client keys and tenants as the gateway serves them. It owns the stored
// rows (ledger::KeyStore), publishes the in-memory limits::Directory the request path reads,
// re-reads it when another process (the `keys` CLI, another replica) changed the database,
// and carries out the admin API's key and tenant operations. With database.url the rows are in
// PostgreSQL, shared by every replica: a key revoked through one replica is refused by the others
// after their next poll (auth.reload_interval).
//
// Thread-safety: directory() and hasher() may be called from any thread at any time (the
// directory is published by an atomic shared_ptr swap). The admin operations and Reload() do
// blocking database I/O: call them on the blocking pool; they serialise among themselves.
// Lifetime: the catalog must outlive the service; the destructor stops the poller.
#pragma once

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>

#include <boost/json/object.hpp>

#include "catalog/catalog.h"
#include "config/config.h"
#include "core/clock.h"
#include "core/result.h"
#include "ledger/keys.h"
#include "limits/directory.h"
#include "limits/keys.h"
#include "routing/policy.h"

namespace sy::app {

// Where the gateway keeps client keys and tenants: the PostgreSQL database of database.url when
// it is set (every replica shares them), else the SQLite file ledger.sqlite_path.
const std::string& KeyDatabase(const config::Config& config);

// The HMAC pepper: auth.pepper (from the environment) when set, else the 64 random base62
// characters in "<location>.pepper", created with mode 0600 on first use. Kept apart from the
// database so that a copy of the database alone does not let anyone test guessed keys. Keys on
// PostgreSQL (`location` a postgresql:// URL) are hashed by every replica and the CLI alike, so
// the pepper must come from the environment: fails with kInvalidRequest naming auth.pepper_env
// when it is not set.
core::Result<std::string> ResolvePepper(const config::AuthConfig& auth,
                                        const std::string& location);

class KeyService {
 public:
  // Opens the key tables of the ledger at `location` ("" = KeyDatabase(config); the gateway's
  // start has created them: SqliteLedger::Open, PostgresLedger::Open, or PrepareKeyDatabase),
  // loads every key and tenant, seeds their budget counters with this UTC day's and month's
  // spend from that ledger (on PostgreSQL every replica's), and starts polling for changes every
  // auth.reload_interval. Fails as ResolvePepper; with kInternal naming the path or the
  // database (never a password) when it cannot be opened; and with kInternal saying what could
  // not be read, with the store's own error as its cause, when a read fails.
  static core::Result<std::unique_ptr<KeyService>> Open(const catalog::Catalog& catalog,
                                                        const routing::Policy& policy,
                                                        const core::Clock& clock,
                                                        const std::string& location = "");
  // Open over a store the caller opened, hashing with `pepper` (tests inject a store that fails
  // on cue). Fails as Open does once the store is open.
  static core::Result<std::unique_ptr<KeyService>> OpenWithStore(
      const catalog::Catalog& catalog, const routing::Policy& policy, const core::Clock& clock,
      std::unique_ptr<ledger::KeyStore> store, std::string_view pepper);
  ~KeyService();
  KeyService(const KeyService&) = delete;
  KeyService& operator=(const KeyService&) = delete;

  std::shared_ptr<const limits::Directory> directory() const { return directory_.load(); }
  const limits::KeyHasher& hasher() const { return hasher_; }

  // Re-reads keys and tenants when the stored revision moved (or always, with `force`). A row
  // whose policy cannot be read is left out, logged, with what depends on it (a tenant's keys
  // with the tenant): those keys stop authenticating, and every other change still applies.
  core::Status Reload(bool force = false);

  // The admin API's operations (docs/api.md, "Admin API"). Each returns the JSON object to
  // answer with, or the error (kInvalidRequest naming the field, kNotFound for an unknown id).
  // A created or rotated key's object carries "key": the only time it is shown.
  // A write that reached the database succeeds even when the reload after it fails (or leaves
  // the key out: its tenant's stored row cannot be read): the answer is built from the written
  // row, "key" included, and carries "warning": this gateway serves the change from its next
  // successful reload (the poller's, every auth.reload_interval). The reload's error is logged.
  core::Result<boost::json::object> CreateKey(const boost::json::object& body);
  // A page of a list, in the directory's order (keys by creation time then id; tenants by name,
  // then those only keys name): the items after the one `after` names (from the first when ""),
  // at most `limit`. {"object": "list", "data": [...], "first_id", "last_id" (null when the page
  // is empty), "has_more"}. An `after` that names nothing is kInvalidRequest (param "after").
  struct ListPage {
    std::string after;
    int64_t limit = kDefaultListLimit;
  };
  static constexpr int64_t kDefaultListLimit = 100;
  static constexpr int64_t kMaxListLimit = 1000;

  // `tenant` "" for every tenant.
  core::Result<boost::json::object> ListKeys(std::string_view tenant, const ListPage& page);
  core::Result<boost::json::object> GetKey(std::string_view id);
  core::Result<boost::json::object> UpdateKey(std::string_view id, const boost::json::object& body);
  core::Result<boost::json::object> RevokeKey(std::string_view id);
  core::Result<boost::json::object> RotateKey(std::string_view id, const boost::json::object& body);
  core::Result<boost::json::object> PutTenant(std::string_view name,
                                              const boost::json::object& body);
  core::Result<boost::json::object> ListTenants(const ListPage& page);
  core::Result<boost::json::object> GetTenant(std::string_view name);

 private:
  KeyService(const catalog::Catalog& catalog, const routing::Policy& policy,
             const core::Clock& clock, std::unique_ptr<ledger::KeyStore> store,
             std::string_view pepper);
  bool HasProfile(std::string_view name) const;

  int64_t NowMs() const;
  core::Status ReloadLocked(bool force);
  // After this process's writes of one key and/or one tenant row, `made` the revisions they
  // made, in order (ledger::KeyStore's writes return them): when they follow the revision last
  // loaded one after the other and none came after, no other process wrote in between, and the
  // directory becomes the one in force with the rows applied; else, or when a row cannot be
  // applied here, ReloadLocked(true). Nothing written (`made` empty): ReloadLocked(false).
  // Reading every row again took about a second per admin write at 100,000 keys (audit 4).
  core::Status ApplyOwnWriteLocked(const ledger::KeyRow* key, const ledger::TenantRow* tenant,
                                   const std::vector<int64_t>& made);
  core::Status SeedSpend();
  core::Status CheckNames(const limits::Policy& policy) const;
  // Stores a row for tenant `name` when none names it yet (an implied tenant gets its row now);
  // the row written, if any, in `written`, and the revision it made appended to `made`.
  core::Status EnsureTenant(std::string_view name, std::optional<ledger::TenantRow>& written,
                            std::vector<int64_t>& made);
  core::Result<ledger::KeyRow> StoredKey(std::string_view id);
  boost::json::object KeyObject(const limits::Key& key) const;
  boost::json::object TenantObject(const limits::Tenant& tenant) const;
  core::Result<boost::json::object> Published(std::string_view id, std::string secret = "");
  // After a key write that reached the database: reloads, and answers with the key as published,
  // or, when the reload failed or left it out, as written (with "warning"). REQUIRES: mu_ held.
  // `made`: the revisions of the writes (ApplyOwnWriteLocked); `new_tenant`: the tenant row the
  // first of them stored, when the key's tenant had none.
  boost::json::object AfterKeyWrite(const ledger::KeyRow& row, const std::vector<int64_t>& made,
                                    std::string secret = "",
                                    const ledger::TenantRow* new_tenant = nullptr);
  // The same after a tenant write. REQUIRES: mu_ held.
  boost::json::object AfterTenantWrite(const ledger::TenantRow& row, limits::Policy policy,
                                       int64_t made);
  void Poll();

  const catalog::Catalog& catalog_;
  std::vector<std::string> profiles_;  // the routing profiles' names (allowed_profiles)
  std::string profile_list_;           // "auto, auto:accurate", for messages
  const core::Clock& clock_;
  std::unique_ptr<ledger::KeyStore> store_;
  // Only the HMAC's pads are kept: the pepper itself is not held after construction.
  const limits::KeyHasher hasher_;
  std::atomic<std::shared_ptr<const limits::Directory>> directory_;

  std::mutex mu_;          // serialises reloads and admin writes
  int64_t revision_ = -1;  // guarded by mu_
  // Tenants whose stored row the last full reload could not read (their keys are left out);
  // guarded by mu_.
  std::set<std::string, std::less<>> unreadable_tenants_;

  std::mutex poll_mu_;
  std::condition_variable poll_cv_;
  bool stop_ = false;  // guarded by poll_mu_
  std::thread poller_;
};

}  // namespace sy::app
