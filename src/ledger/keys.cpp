#include "ledger/keys.h"

#include <cstdlib>
#include <mutex>
#include <string_view>
#include <utility>

#include <libpq-fe.h>
#include <sqlite3.h>

#include "ledger/detail/postgres.h"
#include "ledger/detail/report_source.h"
#include "ledger/detail/schema.h"
#include "ledger/detail/sqlite.h"
#include "ledger/sqlite_ledger.h"

namespace sy::ledger {
namespace {

// The first schemas with the keys tables.
constexpr int64_t kKeysSchema = 6;
constexpr int64_t kPgKeysSchema = 3;
// Admin writes and reloads run off the request path: waiting out a long ledger batch is fine.
constexpr std::chrono::milliseconds kBusyTimeout{5000};

// The statements of both engines: the tables and columns are the same (detail/schema.cpp v6,
// detail/postgres.cpp v3). Parameters are numbered ?N, as SQLite reads them; PostgreSQL runs the
// same text with $N (PgSql). The three that end in ORDER BY a text column get COLLATE "C" on
// PostgreSQL, so both engines sort byte by byte (SQLite's BINARY), whatever the database's
// collation.
constexpr const char* kSelectKeys =
    "SELECT id, tenant, name, prefix, hash, previous_hash, previous_valid_until_ms, "
    "created_at_ms, revoked_at_ms, policy_json FROM client_keys ORDER BY created_at_ms, id";
constexpr const char* kSelectKey =
    "SELECT id, tenant, name, prefix, hash, previous_hash, previous_valid_until_ms, "
    "created_at_ms, revoked_at_ms, policy_json FROM client_keys WHERE id = ?1";
constexpr const char* kSelectTenants =
    "SELECT name, policy_json, created_at_ms, updated_at_ms FROM tenants ORDER BY name";
// Parameter order (?1..?10) is the order of the KeyRow fields.
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
// The bump returns the revision it made: one statement, in the write's transaction.
constexpr const char* kBumpRevision =
    "UPDATE meta SET value = value + 1 WHERE name = 'keys_revision' RETURNING value";
constexpr const char* kSelectRevision = "SELECT value FROM meta WHERE name = 'keys_revision'";
constexpr const char* kByteOrder = " COLLATE \"C\"";

// The seed's sums hold at int64's ends rather than fail: one absurd usage is recorded as a
// saturated cost (INT64_MAX pico-dollars), and a failed sum stopped the gateway from starting.
// Held at INT64_MAX a sum is still at or past every budget (a Money holds no more), so it refuses
// as the true sum would; below that it is exact (no TOTAL or other floating point in money).
// SQLite's SUM fails on an overflow, so it sums with our aggregate (detail/sqlite.h, 128 bits),
// which, unlike summing each cost's high and low halves apart in SQL, has no row count at which
// it fails again. PostgreSQL's SUM of BIGINT is an exact NUMERIC, clamped before the CAST back.
constexpr const char* kSqliteSpendSum = "sy_saturating_sum(cost_pico)";
constexpr const char* kPgSpendSum =
    "CAST(GREATEST(LEAST(SUM(cost_pico), 9223372036854775807), -9223372036854775808) AS BIGINT)";

// SQLite is told the index: by tenant, its planner walked all of the tenant index (schema v10),
// every request ever, to save sorting the groups, instead of the time range's requests.
// PostgreSQL's planner has statistics.
constexpr const char* kSqliteSpendFrom = "requests INDEXED BY requests_started_at";
constexpr const char* kPgSpendFrom = "requests";

// `column` is "key_id" or "tenant"; `sum` the engine's kSqliteSpendSum or kPgSpendSum; `from`
// kSqliteSpendFrom or kPgSpendFrom.
std::string SpendSql(const std::string& column, const char* sum, const char* from) {
  return "SELECT " + column + ", " + sum + " FROM " + from + " WHERE started_at_ms >= ?1 AND " +
         column + " <> '' GROUP BY " + column + " ORDER BY " + column;
}

// The statement for PostgreSQL: "?N" → "$N" (no statement here has a '?' anywhere else).
std::string PgSql(std::string_view sql) {
  std::string out(sql);
  for (char& c : out) {
    if (c == '?') c = '$';
  }
  return out;
}

core::Error Duplicate(const std::string& what) {
  return core::MakeError(core::Errc::kInvalidRequest,
                         what + ": a key with this id or secret exists");
}

core::Error NoKey(const KeyRow& row) {
  return core::MakeError(core::Errc::kNotFound, "no key with id '" + row.id + "'");
}

std::string KeyWhat(const KeyRow& row, bool insert) {
  return (insert ? "inserting key " : "updating key ") + row.id;
}

// ---------------------------------------------------------------------------------------------
// SQLite

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

class SqliteKeyStore final : public KeyStore {
 public:
  SqliteKeyStore(detail::Db db, std::string location)
      : location_(std::move(location)), db_(std::move(db)) {}

  core::Result<std::vector<KeyRow>> Keys() override {
    std::lock_guard lock(mu_);
    auto s = db_.Prepare(kSelectKeys);
    if (!s) return Failed(std::move(s).error());
    std::vector<KeyRow> rows;
    int rc = SQLITE_ROW;
    while ((rc = s->Step()) == SQLITE_ROW) rows.push_back(ReadKey(*s));
    if (rc != SQLITE_DONE) return Failed(db_.LastError("reading client keys"));
    return rows;
  }

  core::Result<std::optional<KeyRow>> Key(std::string_view id) override {
    std::lock_guard lock(mu_);
    auto s = db_.Prepare(kSelectKey);
    if (!s) return Failed(std::move(s).error());
    s->BindText(1, id);
    const int rc = s->Step();
    if (rc == SQLITE_DONE) return std::optional<KeyRow>();
    if (rc != SQLITE_ROW) return Failed(db_.LastError("reading a client key"));
    return std::optional<KeyRow>(ReadKey(*s));
  }

  core::Result<std::vector<TenantRow>> Tenants() override {
    std::lock_guard lock(mu_);
    auto s = db_.Prepare(kSelectTenants);
    if (!s) return Failed(std::move(s).error());
    std::vector<TenantRow> rows;
    int rc = SQLITE_ROW;
    while ((rc = s->Step()) == SQLITE_ROW) {
      rows.push_back({.name = s->ColumnText(0),
                      .policy_json = s->ColumnText(1),
                      .created_at_ms = s->ColumnInt(2),
                      .updated_at_ms = s->ColumnInt(3)});
    }
    if (rc != SQLITE_DONE) return Failed(db_.LastError("reading tenants"));
    return rows;
  }

  core::Result<int64_t> PutTenant(const TenantRow& row) override {
    std::lock_guard lock(mu_);
    return InTransaction([&]() -> core::Status {
      auto s = db_.Prepare(kPutTenant);
      if (!s) return std::move(s).error();
      s->BindText(1, row.name);
      s->BindText(2, row.policy_json);
      s->BindInt(3, row.created_at_ms);
      s->BindInt(4, row.updated_at_ms);
      if (s->Step() != SQLITE_DONE) return db_.LastError("writing tenant " + row.name);
      return {};
    });
  }

  core::Result<int64_t> Revision() override {
    std::lock_guard lock(mu_);
    auto revision = db_.QueryInt(kSelectRevision);
    if (!revision) return Failed(std::move(revision).error());
    return revision;
  }

 private:
  core::Result<int64_t> WriteKey(const KeyRow& row, bool insert) override {
    std::lock_guard lock(mu_);
    return InTransaction([&]() -> core::Status {
      auto s = db_.Prepare(insert ? kInsertKey : kUpdateKey);
      if (!s) return std::move(s).error();
      BindKey(*s, row);
      const int rc = s->Step();
      // A uniqueness violation is the caller's mistake.
      if ((rc & 0xff) == SQLITE_CONSTRAINT) return Duplicate(KeyWhat(row, insert));
      if (rc != SQLITE_DONE) return db_.LastError(KeyWhat(row, insert));
      if (!insert && sqlite3_changes64(db_.get()) == 0) return NoKey(row);
      return {};
    });
  }

  core::Result<std::vector<SpendTotal>> SpendSince(const char* column, int64_t since_ms) override {
    const std::string c(column);
    std::lock_guard lock(mu_);
    auto s = db_.Prepare(SpendSql(c, kSqliteSpendSum, kSqliteSpendFrom));
    if (!s) return Failed(std::move(s).error());
    s->BindInt(1, since_ms);
    std::vector<SpendTotal> totals;
    int rc = SQLITE_ROW;
    while ((rc = s->Step()) == SQLITE_ROW) {
      totals.push_back({s->ColumnText(0), core::Money::FromPico(s->ColumnInt(1))});
    }
    if (rc != SQLITE_DONE) return Failed(db_.LastError("summing spend by " + c));
    return totals;
  }

  // Runs `write` and the revision bump in one BEGIN IMMEDIATE transaction; the revision it made.
  template <typename Write>
  core::Result<int64_t> InTransaction(const Write& write) {
    int64_t made = 0;
    core::Status result = db_.WriteTransaction([&]() -> core::Status {
      if (core::Status written = write(); !written) return written;
      auto revision = db_.QueryInt(kBumpRevision);
      if (!revision) return std::move(revision).error();
      made = *revision;
      return {};
    });
    if (result) return made;
    return Failed(std::move(result).error());
  }

  // A database failure names the file: a gateway opens several SQLite files, and whoever reads
  // the log or the admin API's answer must know which one failed. A refusal of the caller's
  // request (a duplicate, an unknown key) is not a database failure and is left as it is.
  core::Error Failed(core::Error e) const {
    if (e.code != core::Errc::kInternal) return e;
    return detail::WithPath(location_, std::move(e));
  }

  const std::string location_;
  std::mutex mu_;
  detail::Db db_;  // guarded by mu_
};

// ---------------------------------------------------------------------------------------------
// PostgreSQL

// The statements in PostgreSQL's spelling, built once.
struct PgStatements {
  std::string select_keys = PgSql(kSelectKeys) + kByteOrder;
  std::string select_key = PgSql(kSelectKey);
  std::string select_tenants = PgSql(kSelectTenants) + kByteOrder;
  std::string insert_key = PgSql(kInsertKey);
  std::string update_key = PgSql(kUpdateKey);
  std::string put_tenant = PgSql(kPutTenant);
  std::string spend_by_key = PgSql(SpendSql("key_id", kPgSpendSum, kPgSpendFrom)) + kByteOrder;
  std::string spend_by_tenant = PgSql(SpendSql("tenant", kPgSpendSum, kPgSpendFrom)) + kByteOrder;
};

const PgStatements& Pg() {
  static const PgStatements statements;
  return statements;
}

detail::PgParams KeyParams(const KeyRow& row) {
  detail::PgParams p;
  p.Text(row.id);
  p.Text(row.tenant);
  p.Text(row.name);
  p.Text(row.prefix);
  p.Bytes(row.hash);
  if (row.previous_hash.empty()) {
    p.Null();
  } else {
    p.Bytes(row.previous_hash);
  }
  p.Int(row.previous_valid_until_ms);
  p.Int(row.created_at_ms);
  if (row.revoked_at_ms) {
    p.Int(*row.revoked_at_ms);
  } else {
    p.Null();
  }
  p.Text(row.policy_json);
  return p;
}

// A BYTEA column in text format ("\x..." hex) as its raw bytes; "" for NULL.
std::string PgBytes(const pg_result* r, int row, int column) {
  if (PQgetisnull(r, row, column)) return "";
  size_t length = 0;
  unsigned char* raw =
      PQunescapeBytea(reinterpret_cast<const unsigned char*>(PQgetvalue(r, row, column)), &length);
  if (raw == nullptr) return "";  // out of memory: an empty hash matches no key
  std::string bytes(reinterpret_cast<const char*>(raw), length);
  PQfreemem(raw);
  return bytes;
}

KeyRow ReadKey(const pg_result* r, int row) {
  KeyRow key;
  key.id = detail::PgText(r, row, 0);
  key.tenant = detail::PgText(r, row, 1);
  key.name = detail::PgText(r, row, 2);
  key.prefix = detail::PgText(r, row, 3);
  key.hash = PgBytes(r, row, 4);
  key.previous_hash = PgBytes(r, row, 5);
  key.previous_valid_until_ms = detail::PgInt(r, row, 6);
  key.created_at_ms = detail::PgInt(r, row, 7);
  if (!PQgetisnull(r, row, 8)) key.revoked_at_ms = detail::PgInt(r, row, 8);
  key.policy_json = detail::PgText(r, row, 9);
  return key;
}

bool IsUniqueViolation(const pg_result* result) {
  const char* state = PQresultErrorField(result, PG_DIAG_SQLSTATE);
  return state != nullptr && std::string_view(state) == "23505";
}

class PostgresKeyStore final : public KeyStore {
 public:
  PostgresKeyStore(detail::PgTarget target, detail::PgConnection conn,
                   std::chrono::seconds connect_timeout)
      : target_(std::move(target)), connect_timeout_(connect_timeout), conn_(std::move(conn)) {}

  core::Result<std::vector<KeyRow>> Keys() override {
    std::lock_guard lock(mu_);
    auto result = Query(Pg().select_keys, detail::PgParams(), "reading client keys");
    if (!result) return std::move(result).error();
    std::vector<KeyRow> rows;
    const int n = PQntuples(result->get());
    for (int row = 0; row < n; ++row) rows.push_back(ReadKey(result->get(), row));
    return rows;
  }

  core::Result<std::optional<KeyRow>> Key(std::string_view id) override {
    const std::string id_text(id);  // p holds a pointer to it
    std::lock_guard lock(mu_);
    detail::PgParams p;
    p.Text(id_text);
    auto result = Query(Pg().select_key, p, "reading a client key");
    if (!result) return std::move(result).error();
    if (PQntuples(result->get()) == 0) return std::optional<KeyRow>();
    return std::optional<KeyRow>(ReadKey(result->get(), 0));
  }

  core::Result<std::vector<TenantRow>> Tenants() override {
    std::lock_guard lock(mu_);
    auto result = Query(Pg().select_tenants, detail::PgParams(), "reading tenants");
    if (!result) return std::move(result).error();
    std::vector<TenantRow> rows;
    const pg_result* r = result->get();
    const int n = PQntuples(r);
    for (int row = 0; row < n; ++row) {
      rows.push_back({.name = detail::PgText(r, row, 0),
                      .policy_json = detail::PgText(r, row, 1),
                      .created_at_ms = detail::PgInt(r, row, 2),
                      .updated_at_ms = detail::PgInt(r, row, 3)});
    }
    return rows;
  }

  core::Result<int64_t> PutTenant(const TenantRow& row) override {
    detail::PgParams p;
    p.Text(row.name);
    p.Text(row.policy_json);
    p.Int(row.created_at_ms);
    p.Int(row.updated_at_ms);
    const std::string what = "writing tenant " + row.name;
    std::lock_guard lock(mu_);
    return InTransaction(what, [&]() -> core::Status {
      const detail::PgResult result = p.Exec(conn_.get(), Pg().put_tenant);
      if (PQresultStatus(result.get()) != PGRES_COMMAND_OK) {
        return conn_.Failure(what, result.get());
      }
      return {};
    });
  }

  core::Result<int64_t> Revision() override {
    std::lock_guard lock(mu_);
    if (auto s = Reconnect(); !s) return std::move(s).error();
    auto value = conn_.QueryScalar(kSelectRevision, "reading the keys revision");
    if (!value) return std::move(value).error();
    return std::strtoll(value->c_str(), nullptr, 10);
  }

 private:
  core::Result<int64_t> WriteKey(const KeyRow& row, bool insert) override {
    detail::PgParams p = KeyParams(row);
    const std::string what = KeyWhat(row, insert);
    std::lock_guard lock(mu_);
    return InTransaction(what, [&]() -> core::Status {
      const detail::PgResult result =
          p.Exec(conn_.get(), insert ? Pg().insert_key : Pg().update_key);
      if (PQresultStatus(result.get()) != PGRES_COMMAND_OK) {
        if (IsUniqueViolation(result.get())) return Duplicate(what);
        return conn_.Failure(what, result.get());
      }
      if (!insert && std::string_view(PQcmdTuples(result.get())) == "0") return NoKey(row);
      return {};
    });
  }

  core::Result<std::vector<SpendTotal>> SpendSince(const char* column, int64_t since_ms) override {
    const std::string c(column);
    detail::PgParams p;
    p.Int(since_ms);
    std::lock_guard lock(mu_);
    auto result =
        Query(c == "key_id" ? Pg().spend_by_key : Pg().spend_by_tenant, p, "summing spend by " + c);
    if (!result) return std::move(result).error();
    std::vector<SpendTotal> totals;
    const int n = PQntuples(result->get());
    for (int row = 0; row < n; ++row) {
      totals.push_back({detail::PgText(result->get(), row, 0),
                        core::Money::FromPico(detail::PgInt(result->get(), row, 1))});
    }
    return totals;
  }

  // A query on a connection that works: one statement, one implicit transaction.
  core::Result<detail::PgResult> Query(const std::string& sql, detail::PgParams params,
                                       const std::string& what) {
    if (auto s = Reconnect(); !s) return std::move(s).error();
    detail::PgResult result = params.Exec(conn_.get(), sql);
    if (PQresultStatus(result.get()) != PGRES_TUPLES_OK) return conn_.Failure(what, result.get());
    return result;
  }

  // Runs `write` and the revision bump in one transaction; the revision it made. The bump locks
  // meta's row until the commit, so concurrent writers (other replicas, the CLI) each add
  // exactly one, and the value it returns is this write's.
  template <typename Write>
  core::Result<int64_t> InTransaction(const std::string& what, const Write& write) {
    if (auto s = Reconnect(); !s) return std::move(s).error();
    if (auto s = conn_.Exec("BEGIN", what); !s) return std::move(s).error();
    core::Status result = write();
    int64_t made = 0;
    if (result) {
      auto value = conn_.QueryScalar(kBumpRevision, what + ": bumping the keys revision");
      if (value) {
        made = std::strtoll(value->c_str(), nullptr, 10);
      } else {
        result = std::move(value).error();
      }
    }
    if (result) result = conn_.Exec("COMMIT", what + ": committing");
    if (!result) {
      (void)conn_.Exec("ROLLBACK", "rolling back");
      return std::move(result).error();
    }
    return made;
  }

  // A connection that broke (a server restart) is opened again rather than failing every call.
  core::Status Reconnect() {
    if (conn_.ok()) return {};
    auto conn = detail::PgConnection::Connect(target_, connect_timeout_);
    if (!conn) return std::move(conn).error();
    conn_ = std::move(*conn);
    return {};
  }

  const detail::PgTarget target_;
  const std::chrono::seconds connect_timeout_;
  std::mutex mu_;
  detail::PgConnection conn_;  // guarded by mu_
};

core::Result<std::unique_ptr<KeyStore>> OpenPostgres(const std::string& url,
                                                     std::chrono::seconds connect_timeout) {
  auto opened = detail::ConnectAtSchema(url, connect_timeout, kPgKeysSchema, "keys tables");
  if (!opened) return std::move(opened).error();
  return std::unique_ptr<KeyStore>(
      new PostgresKeyStore(std::move(opened->target), std::move(opened->conn), connect_timeout));
}

}  // namespace

core::Result<std::unique_ptr<KeyStore>> KeyStore::Open(const std::string& location,
                                                       std::chrono::seconds connect_timeout) {
  if (detail::IsPostgresUrl(location)) return OpenPostgres(location, connect_timeout);
  auto db = detail::OpenExisting(location, kKeysSchema, kBusyTimeout);
  if (!db) return std::move(db).error();
  if (auto s = detail::RegisterSaturatingSum(*db); !s) return detail::WithPath(location, s.error());
  return std::unique_ptr<KeyStore>(new SqliteKeyStore(std::move(*db), location));
}

bool IsPostgresLocation(const std::string& location) { return detail::IsPostgresUrl(location); }

core::Status PrepareKeyDatabase(const std::string& location, std::chrono::seconds connect_timeout) {
  if (!detail::IsPostgresUrl(location)) return PrepareSqliteFile(location);
  auto target = detail::ParsePgTarget(location);
  if (!target) return std::move(target).error();
  auto conn = detail::PgConnection::Connect(*target, connect_timeout);
  if (!conn) return std::move(conn).error();
  if (auto s = detail::EnsurePgSchema(*conn); !s) {
    return core::MakeError(s.error().code, target->display + ": " + s.error().message);
  }
  return {};
}

}  // namespace sy::ledger
