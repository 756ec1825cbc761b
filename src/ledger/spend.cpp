#include "ledger/spend.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <filesystem>
#include <string>
#include <system_error>
#include <utility>

#include <sqlite3.h>

#include "ledger/detail/schema.h"
#include "ledger/detail/sqlite.h"

namespace sy::ledger {
namespace {

// Column expressions shared by the grouped and the total query; read back by ReadRow.
constexpr std::string_view kSums =
    "COUNT(*), COALESCE(SUM(error_code <> '' OR status >= 400), 0), "
    "COALESCE(SUM(input_tokens), 0), COALESCE(SUM(cached_input_tokens), 0), "
    "COALESCE(SUM(output_tokens), 0), COALESCE(SUM(cost_pico), 0)";

constexpr std::array kAllGroupings = {GroupBy::kModel,  GroupBy::kTask,     GroupBy::kDay,
                                      GroupBy::kTenant, GroupBy::kTaskType, GroupBy::kRule};

// The first routing columns came with schema v3; older ledgers are read as if migrated ('').
constexpr int64_t kRoutingSchema = 3;

// The SQL expression a group is keyed on; rows are grouped by it (GROUP BY 1), so every key
// appears once. A rule is keyed "profile/rule", or just the rule when the profile is "".
std::string_view KeyExpression(GroupBy by, int64_t schema_version) {
  const bool routed = schema_version >= kRoutingSchema;
  switch (by) {
    case GroupBy::kModel:
      return "chosen_model";
    case GroupBy::kTask:
      return "task_id";
    case GroupBy::kDay:
      return "day";
    case GroupBy::kTenant:
      return "tenant";
    case GroupBy::kTaskType:
      return routed ? "task_type" : "''";
    case GroupBy::kRule:
      return routed ? "CASE WHEN profile = '' THEN rule ELSE profile || '/' || rule END" : "''";
  }
  return "chosen_model";
}

std::string DisplayKey(GroupBy by, std::string key) {
  if (!key.empty()) return key;
  switch (by) {
    case GroupBy::kModel:
      return "(none)";
    case GroupBy::kTask:
      return "(no task)";
    case GroupBy::kTenant:
      return "(no tenant)";
    case GroupBy::kTaskType:
      return "(no task type)";
    case GroupBy::kRule:
      return "(no rule)";
    case GroupBy::kDay:
      break;
  }
  return "(empty)";
}

// Reads the kSums columns starting at `first`.
SpendRow ReadRow(const detail::Statement& stmt, int first) {
  SpendRow row;
  row.requests = stmt.ColumnInt(first);
  row.failed = stmt.ColumnInt(first + 1);
  row.input_tokens = stmt.ColumnInt(first + 2);
  row.cached_input_tokens = stmt.ColumnInt(first + 3);
  row.output_tokens = stmt.ColumnInt(first + 4);
  row.cost = core::Money::FromPico(stmt.ColumnInt(first + 5));
  return row;
}

core::Error WithPath(const std::string& path, core::Error error) {
  error.message = "ledger database '" + path + "': " + error.message;
  return error;
}

core::Result<std::vector<SpendRow>> QueryGroups(detail::Db& db, GroupBy by,
                                                int64_t schema_version) {
  const std::string order = by == GroupBy::kDay ? "1" : "7 DESC, 1";
  auto stmt = db.Prepare("SELECT " + std::string(KeyExpression(by, schema_version)) + ", " +
                         std::string(kSums) + " FROM requests GROUP BY 1 ORDER BY " + order);
  if (!stmt) return std::move(stmt).error();
  std::vector<SpendRow> rows;
  int rc = SQLITE_ROW;
  while ((rc = stmt->Step()) == SQLITE_ROW) {
    SpendRow row = ReadRow(*stmt, 1);
    row.key = DisplayKey(by, stmt->ColumnText(0));
    rows.push_back(std::move(row));
  }
  if (rc != SQLITE_DONE) return db.LastError("summing spend");
  return rows;
}

core::Result<SpendRow> QueryTotal(detail::Db& db) {
  auto stmt = db.Prepare("SELECT " + std::string(kSums) + " FROM requests");
  if (!stmt) return std::move(stmt).error();
  if (stmt->Step() != SQLITE_ROW) return db.LastError("summing total spend");
  return ReadRow(*stmt, 0);
}

core::Result<SpendReport> QueryReport(detail::Db& db, GroupBy by) {
  auto version = detail::ReadableSchemaVersion(db);
  if (!version) return std::move(version).error();
  // One read transaction, so the groups and the total see the same snapshot.
  if (auto s = db.Exec("BEGIN"); !s) return std::move(s).error();
  auto groups = QueryGroups(db, by, *version);
  auto total = QueryTotal(db);
  (void)db.Exec("COMMIT");
  if (!groups) return std::move(groups).error();
  if (!total) return std::move(total).error();
  SpendReport report;
  report.group_by = by;
  report.groups = std::move(*groups);
  report.total = std::move(*total);
  return report;
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

std::string JsonFields(const SpendRow& row) {
  return "\"requests\":" + std::to_string(row.requests) +
         ",\"failed\":" + std::to_string(row.failed) +
         ",\"input_tokens\":" + std::to_string(row.input_tokens) +
         ",\"cached_input_tokens\":" + std::to_string(row.cached_input_tokens) +
         ",\"output_tokens\":" + std::to_string(row.output_tokens) +
         ",\"cost_usd\":" + JsonQuoted(row.cost.ToString()) +
         ",\"cost_cents\":" + JsonQuoted(row.cost.ToCents());
}

constexpr size_t kColumns = 8;
using Cells = std::array<std::string, kColumns>;

Cells TableCells(const std::string& key, const SpendRow& row) {
  return {key,
          std::to_string(row.requests),
          std::to_string(row.failed),
          std::to_string(row.input_tokens),
          std::to_string(row.cached_input_tokens),
          std::to_string(row.output_tokens),
          row.cost.ToString(),
          row.cost.ToCents()};
}

// The first column is left-aligned, numbers right-aligned; two spaces between columns.
std::string TableLine(const Cells& cells, const std::array<size_t, kColumns>& widths) {
  std::string line;
  for (size_t i = 0; i < kColumns; ++i) {
    if (i > 0) line += "  ";
    const std::string pad(widths[i] - cells[i].size(), ' ');
    line += i == 0 ? cells[i] + pad : pad + cells[i];
  }
  while (!line.empty() && line.back() == ' ') line.pop_back();
  return line + "\n";
}

}  // namespace

std::string_view GroupByName(GroupBy by) {
  switch (by) {
    case GroupBy::kModel:
      return "model";
    case GroupBy::kTask:
      return "task";
    case GroupBy::kDay:
      return "day";
    case GroupBy::kTenant:
      return "tenant";
    case GroupBy::kTaskType:
      return "task_type";
    case GroupBy::kRule:
      return "rule";
  }
  return "model";
}

core::Result<GroupBy> ParseGroupBy(std::string_view name) {
  for (GroupBy by : kAllGroupings) {
    if (GroupByName(by) == name) return by;
  }
  return core::MakeError(core::Errc::kInvalidRequest,
                         "unknown grouping \"" + std::string(name) +
                             "\": use model, task, day, tenant, task_type or rule");
}

core::Result<SpendReport> QuerySpend(const std::string& db_path, GroupBy by) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(db_path, ec)) {
    return core::MakeError(core::Errc::kNotFound,
                           "ledger database '" + db_path + "' does not exist or is not a file");
  }
  auto db = detail::Db::Open(db_path, SQLITE_OPEN_READONLY);
  if (!db) return std::move(db).error();
  auto report = QueryReport(*db, by);
  if (!report) return WithPath(db_path, std::move(report).error());
  return report;
}

std::string FormatTable(const SpendReport& report) {
  std::vector<Cells> rows;
  rows.push_back({std::string(GroupByName(report.group_by)), "requests", "failed", "input",
                  "cached", "output", "cost_usd", "cost_cents"});
  for (const SpendRow& row : report.groups) rows.push_back(TableCells(row.key, row));
  rows.push_back(TableCells("TOTAL", report.total));
  std::array<size_t, kColumns> widths{};
  for (const Cells& cells : rows) {
    for (size_t i = 0; i < kColumns; ++i) widths[i] = std::max(widths[i], cells[i].size());
  }
  std::string out;
  for (size_t r = 0; r < rows.size(); ++r) {
    if (r + 1 == rows.size()) {
      size_t rule = 2 * (kColumns - 1);
      for (size_t w : widths) rule += w;
      out += std::string(rule, '-') + "\n";
    }
    out += TableLine(rows[r], widths);
  }
  return out;
}

std::string FormatJson(const SpendReport& report) {
  std::string out = "{\"group_by\":" + JsonQuoted(GroupByName(report.group_by)) + ",\"groups\":[";
  for (size_t i = 0; i < report.groups.size(); ++i) {
    if (i > 0) out += ',';
    out +=
        "{\"key\":" + JsonQuoted(report.groups[i].key) + "," + JsonFields(report.groups[i]) + "}";
  }
  out += "],\"total\":{" + JsonFields(report.total) + "}}\n";
  return out;
}

}  // namespace sy::ledger
