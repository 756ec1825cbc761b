#include "ledger/keys.h"

#include <chrono>
#include <utility>

#include <sqlite3.h>

#include "ledger/detail/schema.h"
#include "ledger/detail/sqlite.h"

namespace sy::ledger {
namespace {

// The first schema with the keys tables.
constexpr int64_t kKeysSchema = 6;
// Admin writes and reloads run off the request path: waiting out a long ledger batch is fine.
constexpr std::chrono::milliseconds kBusyTimeout{5000};

constexpr const char* kSelectKeys =
    "SELECT id, tenant, name, prefix, hash, previous_hash, previous_valid_until_ms, "
    "created_at_ms, revoked_at_ms, policy_json FROM client_keys ORDER BY created_at_ms, id";
constexpr const char* kSelectTenants =
    "SELECT name, policy_json, created_at_ms, updated_at_ms FROM tenants ORDER BY name";
// Parameter order (?1..?10) is the order of the KeyRow fields; BindKey binds it.
constexpr const char* kInsertKey =
    "INSERT INTO client_keys (id, tenant, name, prefix, hash, previous_hash, "
    "previous_valid_until_ms, created_at_ms, revoked_at_ms, policy_json) VALUES (?1, ?2, ?3, ?4, "
    "?5, ?6, ?7, ?8, ?9, ?10)";
constexpr const char* kUpdateKey =
    "UPDATE client_keys SET tenant = ?2, name = ?3, prefix = ?4, hash = ?5, previous_hash = ?6, "
    "previous_valid_until_ms = ?7, created_at_ms = ?8, revoked_at_ms = ?9, policy_json = ?10 "
    "WHERE id = ?1";
constexpr const char* kPutTenant =
    "INSERT INTO tenants (name, policy_json, created_at_ms, updated_at_ms) VALUES (?1, ?2, ?3, ?4) "
    "ON CONFLICT(name) DO UPDATE SET policy_json = excluded.policy_json, "
    "updated_at_ms = excluded.updated_at_ms";
constexpr const char* kBumpRevision =
    "UPDATE meta SET value = value + 1 WHERE name = 'keys_revision'";
constexpr const char* kSelectRevision = "SELECT value FROM meta WHERE name = 'keys_revision'";

void BindKey(detail::Statement& s, const KeyRow& row) {
  s.BindText(1, row.id);
  s.BindText(2, row.tenant);
  s.BindText(3, row.name);
  s.BindText(4, row.prefix);
  s.BindBlob(5, row.hash);
  if (row.previous_hash.empty()) {
    s.BindNull(6);
  } else {
    s.BindBlob(6, row.previous_hash);
  }
  s.BindInt(7, row.previous_valid_until_ms);
  s.BindInt(8, row.created_at_ms);
  if (row.revoked_at_ms) {
    s.BindInt(9, *row.revoked_at_ms);
  } else {
    s.BindNull(9);
  }
  s.BindText(10, row.policy_json);
}

KeyRow ReadKey(const detail::Statement& s) {
  KeyRow row;
  row.id = s.ColumnText(0);
  row.tenant = s.ColumnText(1);
  row.name = s.ColumnText(2);
  row.prefix = s.ColumnText(3);
  row.hash = s.ColumnBlob(4);
  row.previous_hash = s.ColumnBlob(5);
  row.previous_valid_until_ms = s.ColumnInt(6);
  row.created_at_ms = s.ColumnInt(7);
  if (!s.ColumnIsNull(8)) row.revoked_at_ms = s.ColumnInt(8);
  row.policy_json = s.ColumnText(9);
  return row;
}

// Runs a prepared write; a uniqueness violation is the caller's mistake (kInvalidRequest).
core::Status StepWrite(detail::Db& db, detail::Statement& s, const std::string& what) {
  const int rc = s.Step();
  if (rc == SQLITE_DONE) return {};
  if ((rc & 0xff) == SQLITE_CONSTRAINT) {
    return core::MakeError(core::Errc::kInvalidRequest,
                           what + ": a key with this id or secret exists");
  }
  return db.LastError(what);
}

}  // namespace

core::Result<std::unique_ptr<KeyStore>> KeyStore::Open(const std::string& path) {
  auto db = detail::OpenExisting(path, kKeysSchema, kBusyTimeout);
  if (!db) return std::move(db).error();
  return std::unique_ptr<KeyStore>(new KeyStore(std::make_unique<detail::Db>(std::move(*db))));
}

KeyStore::KeyStore(std::unique_ptr<detail::Db> db) : db_(std::move(db)) {}

KeyStore::~KeyStore() = default;

core::Result<std::vector<KeyRow>> KeyStore::Keys() {
  std::lock_guard lock(mu_);
  auto s = db_->Prepare(kSelectKeys);
  if (!s) return std::move(s).error();
  std::vector<KeyRow> rows;
  int rc = SQLITE_ROW;
  while ((rc = s->Step()) == SQLITE_ROW) rows.push_back(ReadKey(*s));
  if (rc != SQLITE_DONE) return db_->LastError("reading client keys");
  return rows;
}

core::Result<std::vector<TenantRow>> KeyStore::Tenants() {
  std::lock_guard lock(mu_);
  auto s = db_->Prepare(kSelectTenants);
  if (!s) return std::move(s).error();
  std::vector<TenantRow> rows;
  int rc = SQLITE_ROW;
  while ((rc = s->Step()) == SQLITE_ROW) {
    rows.push_back({.name = s->ColumnText(0),
                    .policy_json = s->ColumnText(1),
                    .created_at_ms = s->ColumnInt(2),
                    .updated_at_ms = s->ColumnInt(3)});
  }
  if (rc != SQLITE_DONE) return db_->LastError("reading tenants");
  return rows;
}

template <typename Write>
core::Status KeyStore::WriteLocked(const Write& write) {
  if (auto s = db_->Exec("BEGIN IMMEDIATE"); !s) return s;
  core::Status result = write();
  if (result) result = db_->Exec(kBumpRevision);
  if (result) result = db_->Exec("COMMIT");
  if (!result) (void)db_->Exec("ROLLBACK");
  return result;
}

core::Status KeyStore::InsertKey(const KeyRow& row) {
  std::lock_guard lock(mu_);
  return WriteLocked([&]() -> core::Status {
    auto s = db_->Prepare(kInsertKey);
    if (!s) return std::move(s).error();
    BindKey(*s, row);
    return StepWrite(*db_, *s, "inserting key " + row.id);
  });
}

core::Status KeyStore::UpdateKey(const KeyRow& row) {
  std::lock_guard lock(mu_);
  return WriteLocked([&]() -> core::Status {
    auto s = db_->Prepare(kUpdateKey);
    if (!s) return std::move(s).error();
    BindKey(*s, row);
    if (auto step = StepWrite(*db_, *s, "updating key " + row.id); !step) return step;
    if (sqlite3_changes64(db_->get()) == 0) {
      return core::MakeError(core::Errc::kNotFound, "no key with id '" + row.id + "'");
    }
    return {};
  });
}

core::Status KeyStore::PutTenant(const TenantRow& row) {
  std::lock_guard lock(mu_);
  return WriteLocked([&]() -> core::Status {
    auto s = db_->Prepare(kPutTenant);
    if (!s) return std::move(s).error();
    s->BindText(1, row.name);
    s->BindText(2, row.policy_json);
    s->BindInt(3, row.created_at_ms);
    s->BindInt(4, row.updated_at_ms);
    if (s->Step() != SQLITE_DONE) return db_->LastError("writing tenant " + row.name);
    return {};
  });
}

core::Result<int64_t> KeyStore::Revision() {
  std::lock_guard lock(mu_);
  return db_->QueryInt(kSelectRevision);
}

core::Result<std::vector<SpendTotal>> KeyStore::SpendByKeySince(int64_t since_ms) {
  return SpendSince("key_id", since_ms);
}

core::Result<std::vector<SpendTotal>> KeyStore::SpendByTenantSince(int64_t since_ms) {
  return SpendSince("tenant", since_ms);
}

// `column` is one of two constants above, never client text.
core::Result<std::vector<SpendTotal>> KeyStore::SpendSince(const char* column, int64_t since_ms) {
  const std::string c(column);
  std::lock_guard lock(mu_);
  auto s = db_->Prepare("SELECT " + c +
                        ", SUM(cost_pico) FROM requests WHERE started_at_ms >= ?1 "
                        "AND " +
                        c + " <> '' GROUP BY 1 ORDER BY 1");
  if (!s) return std::move(s).error();
  s->BindInt(1, since_ms);
  std::vector<SpendTotal> totals;
  int rc = SQLITE_ROW;
  while ((rc = s->Step()) == SQLITE_ROW) {
    totals.push_back({s->ColumnText(0), core::Money::FromPico(s->ColumnInt(1))});
  }
  if (rc != SQLITE_DONE) return db_->LastError("summing spend by " + c);
  return totals;
}

}  // namespace sy::ledger
