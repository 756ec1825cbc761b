#include "ledger/detail/sqlite.h"

#include <cstring>
#include <limits>
#include <string>
#include <utility>

namespace sy::ledger::detail {
namespace {

__extension__ using Wide = __int128;

// The running sum in 128 bits: 2^64 rows of any int64 before it could overflow. SQLite's
// aggregate context is only 8-byte aligned, so the sum is copied in and out, never pointed to.
void SaturatingSumStep(sqlite3_context* context, int /*argc*/, sqlite3_value** argv) {
  if (sqlite3_value_type(argv[0]) == SQLITE_NULL) return;
  void* state = sqlite3_aggregate_context(context, sizeof(Wide));  // zeroed on the first row
  if (state == nullptr) {
    sqlite3_result_error_nomem(context);
    return;
  }
  Wide sum = 0;
  std::memcpy(&sum, state, sizeof sum);
  sum += sqlite3_value_int64(argv[0]);
  std::memcpy(state, &sum, sizeof sum);
}

void SaturatingSumFinal(sqlite3_context* context) {
  void* state = sqlite3_aggregate_context(context, 0);
  if (state == nullptr) {  // no row, or only NULLs
    sqlite3_result_null(context);
    return;
  }
  Wide sum = 0;
  std::memcpy(&sum, state, sizeof sum);
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
  sqlite3_result_int64(context, sum > kMax ? kMax : sum < kMin ? kMin : static_cast<int64_t>(sum));
}

}  // namespace

Statement::Statement(Statement&& other) noexcept : stmt_(std::exchange(other.stmt_, nullptr)) {}

Statement& Statement::operator=(Statement&& other) noexcept {
  if (this != &other) {
    sqlite3_finalize(stmt_);
    stmt_ = std::exchange(other.stmt_, nullptr);
  }
  return *this;
}

Statement::~Statement() { sqlite3_finalize(stmt_); }

void Statement::BindText(int index, std::string_view text) {
  // nullptr destructor == SQLITE_STATIC: SQLite does not copy; the caller keeps the bytes alive.
  // A null data pointer would bind NULL, not "": an empty view binds the empty text.
  const char* data = text.data() != nullptr ? text.data() : "";
  sqlite3_bind_text(stmt_, index, data, static_cast<int>(text.size()), nullptr);
}

void Statement::BindInt(int index, int64_t value) { sqlite3_bind_int64(stmt_, index, value); }

void Statement::BindDouble(int index, double value) { sqlite3_bind_double(stmt_, index, value); }

void Statement::BindBlob(int index, std::string_view bytes) {
  const char* data = bytes.data() != nullptr ? bytes.data() : "";  // "" is a 0-byte BLOB, not NULL
  sqlite3_bind_blob(stmt_, index, data, static_cast<int>(bytes.size()), nullptr);
}

void Statement::BindNull(int index) { sqlite3_bind_null(stmt_, index); }

int Statement::Step() { return sqlite3_step(stmt_); }

void Statement::Reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

void Statement::Rewind() { sqlite3_reset(stmt_); }

bool Statement::ColumnIsNull(int column) const {
  return sqlite3_column_type(stmt_, column) == SQLITE_NULL;
}

int64_t Statement::ColumnInt(int column) const { return sqlite3_column_int64(stmt_, column); }

std::string Statement::ColumnText(int column) const {
  const unsigned char* text = sqlite3_column_text(stmt_, column);
  const int size = sqlite3_column_bytes(stmt_, column);
  if (text == nullptr || size <= 0) return {};
  return {reinterpret_cast<const char*>(text), static_cast<size_t>(size)};
}

double Statement::ColumnDouble(int column) const { return sqlite3_column_double(stmt_, column); }

std::string Statement::ColumnBlob(int column) const {
  const void* bytes = sqlite3_column_blob(stmt_, column);
  const int size = sqlite3_column_bytes(stmt_, column);
  if (bytes == nullptr || size <= 0) return {};
  return {static_cast<const char*>(bytes), static_cast<size_t>(size)};
}

size_t Statement::ColumnBytes(int column) const {
  const int size = sqlite3_column_bytes(stmt_, column);
  return size > 0 ? static_cast<size_t>(size) : 0;
}

core::Result<Db> Db::Open(const std::string& path, int flags) {
  // Before SQLite initialises (the first open): no global allocation statistics, which cost a
  // global mutex round trip per allocation and are never read here. Refused harmlessly (and the
  // statistics stay on) if something else initialised SQLite first.
  static const int kNoMemStatus = sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
  (void)kNoMemStatus;
  sqlite3* raw = nullptr;
  // Multi-thread mode: every connection is used by one thread at a time (its owner's, or under its
  // owner's mutex), so SQLite's own per-call mutexes (about 125 lock pairs per ledger record in
  // the default serialized mode) buy nothing.
  const int rc = sqlite3_open_v2(path.c_str(), &raw, flags | SQLITE_OPEN_NOMUTEX, nullptr);
  Db db(raw);  // owns the handle even on failure (sqlite3_open_v2 may allocate one)
  if (rc != SQLITE_OK) {
    const std::string reason = raw != nullptr ? sqlite3_errmsg(raw) : sqlite3_errstr(rc);
    return core::MakeError(core::Errc::kInternal,
                           "cannot open ledger database '" + path + "': " + reason);
  }
  sqlite3_extended_result_codes(raw, 1);
  return db;
}

Db::Db(Db&& other) noexcept : db_(std::exchange(other.db_, nullptr)) {}

Db& Db::operator=(Db&& other) noexcept {
  if (this != &other) {
    sqlite3_close_v2(db_);
    db_ = std::exchange(other.db_, nullptr);
  }
  return *this;
}

Db::~Db() { sqlite3_close_v2(db_); }

core::Status Db::Exec(const char* sql) {
  if (sqlite3_exec(db_, sql, nullptr, nullptr, nullptr) != SQLITE_OK) {
    return LastError(sql);
  }
  return {};
}

core::Result<Statement> Db::Prepare(std::string_view sql) {
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &stmt, nullptr) !=
      SQLITE_OK) {
    sqlite3_finalize(stmt);
    return LastError("preparing SQL");
  }
  return Statement(stmt);
}

core::Result<std::string> Db::QueryText(std::string_view sql) {
  auto stmt = Prepare(sql);
  if (!stmt) return std::move(stmt).error();
  if (stmt->Step() != SQLITE_ROW) return LastError(sql);
  return stmt->ColumnText(0);
}

core::Result<int64_t> Db::QueryInt(std::string_view sql) {
  auto stmt = Prepare(sql);
  if (!stmt) return std::move(stmt).error();
  if (stmt->Step() != SQLITE_ROW) return LastError(sql);
  return stmt->ColumnInt(0);
}

core::Status RegisterSaturatingSum(Db& db) {
  if (sqlite3_create_function_v2(
          db.get(), "sy_saturating_sum", 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS,
          nullptr, nullptr, &SaturatingSumStep, &SaturatingSumFinal, nullptr) != SQLITE_OK) {
    return db.LastError("registering sy_saturating_sum");
  }
  return {};
}

core::Error Db::LastError(std::string_view what) const {
  std::string message(what);
  message += ": ";
  message += db_ != nullptr ? sqlite3_errmsg(db_) : "no database connection";
  return core::MakeError(core::Errc::kInternal, std::move(message));
}

bool Db::HasMoved() const {
  int moved = 0;
  return sqlite3_file_control(db_, "main", SQLITE_FCNTL_HAS_MOVED, &moved) == SQLITE_OK &&
         moved != 0;
}

}  // namespace sy::ledger::detail
