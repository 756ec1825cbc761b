#include "ledger/detail/report_source.h"

#include <chrono>
#include <cstdlib>
#include <string_view>
#include <utility>
#include <vector>

#include <libpq-fe.h>

#include "ledger/detail/postgres.h"
#include "ledger/detail/schema.h"

namespace sy::ledger::detail {
namespace {

class SqliteRows final : public ReportRows {
 public:
  SqliteRows(Db& db, Statement statement, RequestFilter filter)
      : db_(db), statement_(std::move(statement)), filter_(std::move(filter)) {
    BindFilter(statement_, filter_);  // the tenant is bound without a copy: filter_ keeps it
  }
  core::Result<bool> Next() override {
    if (done_) return false;
    const int rc = statement_.Step();
    if (rc == SQLITE_ROW) return true;
    done_ = true;
    if (rc == SQLITE_DONE) return false;
    // SUM's only failure that is not the connection's: its integer sum passed int64. SQLite
    // gives it no code of its own (SQLITE_ERROR), only this message.
    if (rc == SQLITE_ERROR && std::string_view(sqlite3_errmsg(db_.get())) == "integer overflow") {
      return SumOverflow();
    }
    return db_.LastError("reading the ledger");
  }
  int64_t Int(int column) const override { return statement_.ColumnInt(column); }
  std::string Text(int column) const override { return statement_.ColumnText(column); }
  double Double(int column) const override { return statement_.ColumnDouble(column); }
  bool IsNull(int column) const override { return statement_.ColumnIsNull(column); }

 private:
  Db& db_;
  Statement statement_;
  RequestFilter filter_;
  bool done_ = false;
};

class SqliteSource final : public ReportSource {
 public:
  SqliteSource(std::string path, ReportDb db) : path_(std::move(path)), db_(std::move(db)) {}
  SqlDialect dialect() const override { return SqlDialect::kSqlite; }
  int64_t version() const override { return db_.version; }
  core::Result<std::unique_ptr<ReportRows>> Query(const std::string& sql,
                                                  const RequestFilter& filter) override {
    auto statement = db_.db.Prepare(sql);
    if (!statement) return std::move(statement).error();
    return std::unique_ptr<ReportRows>(new SqliteRows(db_.db, std::move(*statement), filter));
  }
  core::Status Begin() override { return db_.db.Exec("BEGIN"); }
  core::Status End() override { return db_.db.Exec("COMMIT"); }
  const std::string& name() const override { return path_; }

 private:
  std::string path_;
  ReportDb db_;
};

// Single-row mode: each Next() takes one PGresult holding one row.
class PostgresRows final : public ReportRows {
 public:
  explicit PostgresRows(PgConnection& conn) : conn_(conn) {}
  ~PostgresRows() override { Drain(); }
  PostgresRows(const PostgresRows&) = delete;
  PostgresRows& operator=(const PostgresRows&) = delete;

  core::Result<bool> Next() override {
    if (done_) return false;
    row_.reset(PQgetResult(conn_.get()));
    const ExecStatusType status = PQresultStatus(row_.get());
    if (status == PGRES_SINGLE_TUPLE) return true;
    // 22003 numeric_value_out_of_range: a SUM (a NUMERIC) did not fit the cast back to BIGINT.
    // Failure would call it kInvalidRequest (class 22: the statement's values refused), which
    // it is not: the report asked for nothing wrong.
    const char* state = PQresultErrorField(row_.get(), PG_DIAG_SQLSTATE);
    core::Error error = state != nullptr && std::string_view(state) == "22003"
                            ? SumOverflow()
                            : conn_.Failure("reading the ledger", row_.get());
    row_.reset();
    Drain();
    if (status == PGRES_TUPLES_OK) return false;
    return error;
  }
  int64_t Int(int column) const override {
    return std::strtoll(PQgetvalue(row_.get(), 0, column), nullptr, 10);
  }
  std::string Text(int column) const override { return PQgetvalue(row_.get(), 0, column); }
  double Double(int column) const override {
    return std::strtod(PQgetvalue(row_.get(), 0, column), nullptr);
  }
  bool IsNull(int column) const override { return PQgetisnull(row_.get(), 0, column) != 0; }

 private:
  // The connection takes no new query until every result of this one was read.
  void Drain() {
    if (done_) return;
    done_ = true;
    while (PGresult* rest = PQgetResult(conn_.get())) PQclear(rest);
  }

  PgConnection& conn_;
  PgResult row_;
  bool done_ = false;
};

class PostgresSource final : public ReportSource {
 public:
  PostgresSource(std::string name, PgConnection conn)
      : name_(std::move(name)), conn_(std::move(conn)) {}
  SqlDialect dialect() const override { return SqlDialect::kPostgres; }
  int64_t version() const override { return kSchemaVersion; }
  core::Result<std::unique_ptr<ReportRows>> Query(const std::string& sql,
                                                  const RequestFilter& filter) override {
    const std::vector<std::string> values = FilterValues(filter);
    std::vector<const char*> pointers;
    for (const std::string& value : values) pointers.push_back(value.c_str());
    if (PQsendQueryParams(conn_.get(), sql.c_str(), static_cast<int>(pointers.size()), nullptr,
                          pointers.data(), nullptr, nullptr, 0) != 1) {
      return conn_.Failure("querying the ledger", nullptr);
    }
    auto rows = std::make_unique<PostgresRows>(conn_);
    if (PQsetSingleRowMode(conn_.get()) != 1) {
      return conn_.Failure("querying the ledger row by row", nullptr);
    }
    return std::unique_ptr<ReportRows>(std::move(rows));
  }
  core::Status Begin() override {
    return conn_.Exec("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", "beginning a report");
  }
  core::Status End() override { return conn_.Exec("COMMIT", "ending a report"); }
  const std::string& name() const override { return name_; }

 private:
  std::string name_;
  PgConnection conn_;
};

core::Result<std::unique_ptr<ReportSource>> OpenPostgres(const std::string& url) {
  auto opened = ConnectAtSchema(url, std::chrono::seconds(5), 1, "ledger tables");
  if (!opened) return std::move(opened).error();
  return std::unique_ptr<ReportSource>(
      new PostgresSource(opened->target.display, std::move(opened->conn)));
}

}  // namespace

bool IsPostgresUrl(const std::string& location) {
  return location.starts_with("postgresql://") || location.starts_with("postgres://");
}

core::Result<std::unique_ptr<ReportSource>> OpenReportSource(const std::string& location) {
  if (IsPostgresUrl(location)) return OpenPostgres(location);
  auto db = OpenForReport(location);
  if (!db) return std::move(db).error();
  return std::unique_ptr<ReportSource>(new SqliteSource(location, std::move(*db)));
}

}  // namespace sy::ledger::detail
