// Thin RAII wrappers over the SQLite C API, shared by the ledger writer and the spend query.
// Internal to ledger/: other modules use ledger/sink.h, ledger/sqlite_ledger.h and ledger/spend.h.
//
// Thread-safety: a Db and its Statements belong to one thread at a time (hand-off between
// threads must be synchronised by the caller, e.g. by starting a thread).
// Ownership: Db owns the connection; a Statement owns its prepared statement and must be
// destroyed before the Db it came from.
// Failure: fallible calls return core::Result / core::Status carrying SQLite's message.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <sqlite3.h>

#include "core/result.h"

namespace sy::ledger::detail {

class Statement {
 public:
  Statement() = default;
  explicit Statement(sqlite3_stmt* stmt) : stmt_(stmt) {}
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&& other) noexcept;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement();

  // Parameter indexes are 1-based, as in SQLite. Text is bound without a copy: the bytes must
  // stay alive until the next Reset().
  void BindText(int index, std::string_view text);
  void BindInt(int index, int64_t value);
  void BindDouble(int index, double value);
  // Binds `bytes` as a BLOB, without a copy (as BindText).
  void BindBlob(int index, std::string_view bytes);
  void BindNull(int index);
  // Returns the SQLite result code (SQLITE_ROW, SQLITE_DONE or an error code).
  int Step();
  // Resets the statement and clears its bindings so it can run again.
  void Reset();
  // Resets the statement but keeps its bindings, which may then point at freed bytes: only for
  // a statement that binds every parameter before each Step (the ledger's inserts), where
  // clearing them was wasted work on every batch.
  void Rewind();

  bool ColumnIsNull(int column) const;
  int64_t ColumnInt(int column) const;
  std::string ColumnText(int column) const;
  double ColumnDouble(int column) const;
  // The column's bytes (a BLOB's as stored); "" for NULL.
  std::string ColumnBlob(int column) const;
  // Size in bytes of a text column, without copying it.
  size_t ColumnBytes(int column) const;

 private:
  sqlite3_stmt* stmt_ = nullptr;
};

class Db {
 public:
  // Opens `path` with sqlite3_open_v2 `flags`. Fails with kInternal naming the path and the
  // SQLite reason.
  static core::Result<Db> Open(const std::string& path, int flags);

  Db() = default;
  Db(Db&& other) noexcept;
  Db& operator=(Db&& other) noexcept;
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;
  ~Db();

  // Runs one or more SQL statements that return no rows we need.
  core::Status Exec(const char* sql);
  core::Result<Statement> Prepare(std::string_view sql);
  // Runs a single-row, single-column query and returns column 0 as text / integer.
  core::Result<std::string> QueryText(std::string_view sql);
  core::Result<int64_t> QueryInt(std::string_view sql);
  // Runs `body` (returning core::Status) inside BEGIN IMMEDIATE ... COMMIT: every write it makes
  // lands, or, when it or the commit fails, none does (rolled back) and its error is returned.
  template <typename Body>
  core::Status WriteTransaction(const Body& body) {
    if (auto s = Exec("BEGIN IMMEDIATE"); !s) return s;
    core::Status result = body();
    if (result) result = Exec("COMMIT");
    if (!result) (void)Exec("ROLLBACK");
    return result;
  }
  // kInternal error "<what>: <sqlite message>" from the connection's last failure.
  core::Error LastError(std::string_view what) const;
  // Whether the main database file was deleted, renamed or replaced since it was opened
  // (SQLITE_FCNTL_HAS_MOVED: one stat of the path): writes would then land in a file that
  // nothing reads again. False when SQLite cannot tell (an in-memory database).
  bool HasMoved() const;
  sqlite3* get() const { return db_; }

 private:
  explicit Db(sqlite3* db) : db_(db) {}
  sqlite3* db_ = nullptr;
};

// Registers on `db` the aggregate sy_saturating_sum(x): the exact sum of the integers x, held at
// int64's ends. SQLite's SUM fails the whole query with "integer overflow" instead, and TOTAL
// rounds (a double), which money cannot take. NULLs are skipped, and no rows sum to NULL, as with
// SUM. Fails with kInternal when SQLite refuses the registration.
core::Status RegisterSaturatingSum(Db& db);

}  // namespace sy::ledger::detail
