#include "ledger/detail/report.h"

#include <array>
#include <cstdio>
#include <filesystem>
#include <system_error>
#include <utility>

#include "ledger/detail/schema.h"

namespace sy::ledger::detail {
namespace {

// The first routing columns came with schema v3; older ledgers are read as if migrated ('').
constexpr int64_t kRoutingSchema = 3;

}  // namespace

core::Result<ReportDb> OpenForReport(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    return core::MakeError(core::Errc::kNotFound,
                           "ledger database '" + path + "' does not exist or is not a file");
  }
  auto db = Db::Open(path, SQLITE_OPEN_READONLY);
  if (!db) return std::move(db).error();
  auto version = ReadableSchemaVersion(*db);
  if (!version) return WithPath(path, std::move(version).error());
  return ReportDb{std::move(*db), *version};
}

core::Error SumOverflow() {
  return core::MakeError(core::Errc::kInternal,
                         "a sum passes the 64-bit integer range (9223372036854775807 tokens or "
                         "pico-dollars, about 9.2 million USD): some requests in range were "
                         "recorded with a saturated usage or cost, or they spent more than one sum "
                         "holds; report a shorter time range or one tenant");
}

std::string WhereClause(const RequestFilter& filter, std::string_view table_prefix,
                        SqlDialect dialect) {
  const std::string prefix(table_prefix);
  std::string where;
  int used = 0;
  const auto add = [&](const std::string& condition, int sqlite_index) {
    where += where.empty() ? " WHERE " : " AND ";
    where += condition;
    where += dialect == SqlDialect::kSqlite ? "?" + std::to_string(sqlite_index)
                                            : "$" + std::to_string(++used);
  };
  if (filter.from_ms) add(prefix + "started_at_ms >= ", 1);
  if (filter.to_ms) add(prefix + "started_at_ms < ", 2);
  if (filter.tenant) add(prefix + "tenant = ", 3);
  return where;
}

std::string InByteOrder(const std::string& column, SqlDialect dialect) {
  return dialect == SqlDialect::kSqlite ? column : column + " COLLATE \"C\"";
}

std::string TenantParameter(const RequestFilter& filter, SqlDialect dialect) {
  if (dialect == SqlDialect::kSqlite) return "?3";
  return "$" + std::to_string(1 + (filter.from_ms ? 1 : 0) + (filter.to_ms ? 1 : 0));
}

std::vector<std::string> FilterValues(const RequestFilter& filter) {
  std::vector<std::string> values;
  if (filter.from_ms) values.push_back(std::to_string(*filter.from_ms));
  if (filter.to_ms) values.push_back(std::to_string(*filter.to_ms));
  if (filter.tenant) values.push_back(*filter.tenant);
  return values;
}

void BindFilter(Statement& statement, const RequestFilter& filter) {
  if (filter.from_ms) statement.BindInt(1, *filter.from_ms);
  if (filter.to_ms) statement.BindInt(2, *filter.to_ms);
  if (filter.tenant) statement.BindText(3, *filter.tenant);
}

std::string RuleExpression(int64_t schema_version, std::string_view table_prefix) {
  if (schema_version < kRoutingSchema) return "''";
  const std::string p(table_prefix);
  return "CASE WHEN " + p + "profile = '' THEN " + p + "rule ELSE " + p + "profile || '/' || " + p +
         "rule END";
}

std::string RoutingColumn(int64_t schema_version, std::string_view column,
                          std::string_view table_prefix) {
  if (schema_version < kRoutingSchema) return "''";
  return std::string(table_prefix) + std::string(column);
}

std::string JsonQuoted(std::string_view text) {
  std::string out = "\"";
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (byte < 0x20) {
      std::array<char, 8> buf{};
      std::snprintf(buf.data(), buf.size(), "\\u%04x", static_cast<unsigned>(byte));
      out += buf.data();
    } else {
      out += c;
    }
  }
  out += '"';
  return out;
}

// The SQL expression a group is keyed on; rows are grouped by it (GROUP BY 1), so every key
// appears once. A rule is keyed "profile/rule", or just the rule when the profile is "".
std::string GroupKeyExpression(GroupBy by, int64_t schema_version, SqlDialect dialect) {
  switch (by) {
    case GroupBy::kModel:
      return "chosen_model";
    case GroupBy::kProvider:
      return "provider";
    case GroupBy::kTask:
      return "task_id";
    case GroupBy::kDay:
      return "day";
    case GroupBy::kHour:
      return dialect == SqlDialect::kSqlite
                 ? "strftime('%Y-%m-%dT%H', started_at_ms / 1000, 'unixepoch')"
                 : "to_char(to_timestamp(started_at_ms / 1000) AT TIME ZONE 'UTC', "
                   "'YYYY-MM-DD\"T\"HH24')";
    case GroupBy::kTenant:
      return "tenant";
    case GroupBy::kKey:
      return "key_id";
    case GroupBy::kTaskType:
      return RoutingColumn(schema_version, "task_type");
    case GroupBy::kRule:
      return RuleExpression(schema_version);
  }
  return "chosen_model";
}

std::string GroupDisplayKey(GroupBy by, std::string key) {
  if (!key.empty()) return key;
  switch (by) {
    case GroupBy::kModel:
    case GroupBy::kProvider:
      return "(none)";
    case GroupBy::kTask:
      return "(no task)";
    case GroupBy::kTenant:
      return "(no tenant)";
    case GroupBy::kKey:
      return "(no key)";
    case GroupBy::kTaskType:
      return "(no task type)";
    case GroupBy::kRule:
      return "(no rule)";
    case GroupBy::kDay:
    case GroupBy::kHour:
      break;
  }
  return "(empty)";
}

}  // namespace sy::ledger::detail
