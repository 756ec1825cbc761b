// Where a report's SQL runs: the SQLite ledger file or the PostgreSQL ledger (database.url), with
// one query layer above (spend.cpp): the same statements, the few expressions that differ chosen
// by SqlDialect, and rows read through one cursor. Internal to ledger/.
//
// Rows stream: SQLite steps its statement, PostgreSQL uses single-row mode, so a report over
// millions of requests holds one row at a time.
//
// Thread-safety: a ReportSource and its rows are used by one thread; one query at a time (read
// a query's rows to the end, or destroy them, before the next).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "core/result.h"
#include "ledger/detail/report.h"

namespace sy::ledger::detail {

class ReportRows {
 public:
  virtual ~ReportRows() = default;
  // Moves to the next row: true on a row, false at the end (then every later call too). Fails
  // with SumOverflow (detail/report.h) when a SUM of the query passed int64 (SQLite's "integer
  // overflow", PostgreSQL's BIGINT cast out of range), else with the engine's error.
  virtual core::Result<bool> Next() = 0;
  // Column `column` (0-based) of the current row; NULL reads as 0 and "".
  virtual int64_t Int(int column) const = 0;
  virtual std::string Text(int column) const = 0;
  virtual double Double(int column) const = 0;
  virtual bool IsNull(int column) const = 0;
};

class ReportSource {
 public:
  virtual ~ReportSource() = default;
  virtual SqlDialect dialect() const = 0;
  // The SQLite schema version whose columns the source has (PostgreSQL: all of them).
  virtual int64_t version() const = 0;
  // Runs `sql`, whose WHERE clause came from WhereClause(filter, ..., dialect()), with the
  // filter's values bound.
  virtual core::Result<std::unique_ptr<ReportRows>> Query(const std::string& sql,
                                                          const RequestFilter& filter) = 0;
  // A read-only snapshot around several queries (a report's groups and its total agree).
  virtual core::Status Begin() = 0;
  virtual core::Status End() = 0;
  // For error messages: the file's path, or user@host:port/dbname (never a password).
  virtual const std::string& name() const = 0;
};

// "postgresql://..." or "postgres://...": the PostgreSQL ledger; anything else: a SQLite file.
bool IsPostgresUrl(const std::string& location);

// Opens the ledger at `location` read-only. SQLite: as OpenForReport. PostgreSQL: connects and
// checks its schema is one this binary reads (kInternal otherwise; kInternal when unreachable).
core::Result<std::unique_ptr<ReportSource>> OpenReportSource(const std::string& location);

}  // namespace sy::ledger::detail
