#include "ledger/spend.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <map>
#include <string>
#include <utility>

#include "core/table.h"
#include "core/text.h"
#include "ledger/detail/report.h"
#include "ledger/detail/report_source.h"
#include "ledger/detail/schema.h"

namespace sy::ledger {
namespace {

// 1 when the request failed (an error code, or the client got a status >= 400), else 0: an
// integer in both dialects (PostgreSQL sums no booleans).
constexpr std::string_view kFailed =
    "CASE WHEN error_code <> '' OR status >= 400 THEN 1 ELSE 0 END";

// Column expressions shared by the grouped and the total query; read back by ReadRow. Sums are
// cast to BIGINT: SQLite's integer SUM fails on overflow, and PostgreSQL's (a NUMERIC) then fails
// the cast instead of reaching us as a number that no int64 holds. Either failure reaches us as
// detail::SumOverflow (report_source.cpp), the error the baseline path's sums give too.
std::string Sum(std::string_view expression) {
  return "COALESCE(CAST(SUM(" + std::string(expression) + ") AS BIGINT), 0)";
}
const std::string kSums = "COUNT(*), " + Sum(kFailed) + ", " + Sum("input_tokens") + ", " +
                          Sum("cached_input_tokens") + ", " + Sum("output_tokens") + ", " +
                          Sum("cost_pico");

constexpr std::array kAllGroupings = {GroupBy::kModel, GroupBy::kProvider, GroupBy::kTenant,
                                      GroupBy::kKey,   GroupBy::kTask,     GroupBy::kTaskType,
                                      GroupBy::kRule,  GroupBy::kDay,      GroupBy::kHour};

// requests.usage_estimated came with schema v2.
constexpr int64_t kEstimatedSchema = 2;

bool InTimeOrder(GroupBy by) { return by == GroupBy::kDay || by == GroupBy::kHour; }

// Reads the kSums columns starting at `first`.
SpendRow ReadRow(const detail::ReportRows& rows, int first) {
  SpendRow row;
  row.requests = rows.Int(first);
  row.failed = rows.Int(first + 1);
  row.input_tokens = rows.Int(first + 2);
  row.cached_input_tokens = rows.Int(first + 3);
  row.output_tokens = rows.Int(first + 4);
  row.cost = core::Money::FromPico(rows.Int(first + 5));
  return row;
}

// Groups ordered as the report shows them: in time, or most expensive first then by key (byte
// order in both engines, whatever PostgreSQL's collation).
std::string GroupOrder(GroupBy by, const std::string& key, detail::SqlDialect dialect) {
  if (InTimeOrder(by)) return "1";
  // SQLite may name the key by its position; PostgreSQL's COLLATE needs the expression.
  return "7 DESC, " +
         detail::InByteOrder(dialect == detail::SqlDialect::kSqlite ? "1" : key, dialect);
}

// The first `max_groups` groups in the report's order, keyed by the raw group key (SQL's
// GROUP BY 1, before GroupDisplayKey), and whether there were more. The engine sorts every
// group, on its own temporary storage; only the groups shown are read.
struct Groups {
  std::vector<SpendRow> rows;
  bool more = false;
};

core::Result<Groups> QueryGroups(detail::ReportSource& source, GroupBy by,
                                 const detail::RequestFilter& filter, int64_t max_groups) {
  const std::string key = detail::GroupKeyExpression(by, source.version(), source.dialect());
  auto rows = source.Query("SELECT " + key + ", " + kSums + " FROM requests" +
                               detail::WhereClause(filter, "", source.dialect()) +
                               " GROUP BY 1 ORDER BY " + GroupOrder(by, key, source.dialect()) +
                               " LIMIT " + std::to_string(max_groups + 1),
                           filter);
  if (!rows) return std::move(rows).error();
  Groups groups;
  for (;;) {
    auto next = (*rows)->Next();
    if (!next) return std::move(next).error();
    if (!*next) break;
    if (static_cast<int64_t>(groups.rows.size()) == max_groups) {
      groups.more = true;
      break;
    }
    SpendRow row = ReadRow(**rows, 1);
    row.key = (*rows)->Text(0);
    groups.rows.push_back(std::move(row));
  }
  return groups;
}

core::Result<SpendRow> QueryTotal(detail::ReportSource& source,
                                  const detail::RequestFilter& filter) {
  auto rows = source.Query(
      "SELECT " + kSums + " FROM requests" + detail::WhereClause(filter, "", source.dialect()),
      filter);
  if (!rows) return std::move(rows).error();
  auto next = (*rows)->Next();
  if (!next) return std::move(next).error();
  if (!*next) return core::MakeError(core::Errc::kInternal, "summing total spend: no row");
  return ReadRow(**rows, 0);
}

// Adds one request to `row`, or leaves `row` as it was and returns false when a sum, or the
// savings (baseline - cost) the formats print, would pass int64: the report is an exact figure or
// an error (detail::SumOverflow), never a wrapped or a saturated one. Costs the gateway records
// are never negative, so the savings of two in-range sums are in range too; a ledger edited by
// hand to hold a negative cost is refused here instead.
bool Accumulate(SpendRow& row, bool failed, const core::Usage& usage, core::Money cost,
                core::Money baseline) {
  int64_t input = 0;
  int64_t cached = 0;
  int64_t output = 0;
  int64_t cost_pico = 0;
  int64_t baseline_pico = 0;
  int64_t savings_pico = 0;
  const int64_t had_baseline = row.baseline_cost ? row.baseline_cost->pico() : 0;
  if (__builtin_add_overflow(row.input_tokens, usage.input_tokens, &input) ||
      __builtin_add_overflow(row.cached_input_tokens, usage.cached_input_tokens, &cached) ||
      __builtin_add_overflow(row.output_tokens, usage.output_tokens, &output) ||
      __builtin_add_overflow(row.cost.pico(), cost.pico(), &cost_pico) ||
      __builtin_add_overflow(had_baseline, baseline.pico(), &baseline_pico) ||
      __builtin_sub_overflow(baseline_pico, cost_pico, &savings_pico)) {
    return false;
  }
  row.requests += 1;
  row.failed += failed ? 1 : 0;
  row.input_tokens = input;
  row.cached_input_tokens = cached;
  row.output_tokens = output;
  row.cost = core::Money::FromPico(cost_pico);
  row.baseline_cost = core::Money::FromPico(baseline_pico);
  return true;
}

// The baseline path: every matching request, re-priced one by one; only the groups `shown`
// lists (raw keys) are kept, so the memory it takes is bounded as the SQL path's is.
core::Result<SpendReport> QueryRepriced(detail::ReportSource& source, GroupBy by,
                                        const detail::RequestFilter& filter, const Reprice& reprice,
                                        const Groups& shown) {
  const int64_t version = source.version();
  const std::string estimated = version >= kEstimatedSchema ? "usage_estimated" : "0";
  auto rows = source.Query("SELECT " + detail::GroupKeyExpression(by, version, source.dialect()) +
                               ", " + std::string(kFailed) +
                               ", input_tokens, cached_input_tokens, cache_write_input_tokens, "
                               "output_tokens, reasoning_tokens, usage_reported, " +
                               estimated + ", cost_pico, started_at_ms FROM requests" +
                               detail::WhereClause(filter, "", source.dialect()),
                           filter);
  if (!rows) return std::move(rows).error();
  detail::ReportRows& row = **rows;
  std::map<std::string, SpendRow, std::less<>> groups;  // by the raw key, as SQL's GROUP BY 1
  for (const SpendRow& group : shown.rows) groups.emplace(group.key, SpendRow());
  SpendReport report;
  report.more_groups = shown.more;
  report.total.baseline_cost = core::Money();
  for (;;) {
    auto next = row.Next();
    if (!next) return std::move(next).error();
    if (!*next) break;
    core::Usage usage;
    usage.input_tokens = row.Int(2);
    usage.cached_input_tokens = row.Int(3);
    usage.cache_write_input_tokens = row.Int(4);
    usage.output_tokens = row.Int(5);
    usage.reasoning_tokens = row.Int(6);
    usage.reported = row.Int(7) != 0;
    usage.estimated = row.Int(8) != 0;
    const core::Money cost = core::Money::FromPico(row.Int(9));
    const std::string key = row.Text(0);
    const core::Money baseline = reprice(usage, row.Int(10), detail::GroupDisplayKey(by, key));
    const bool failed = row.Int(1) != 0;
    const auto group = groups.find(key);
    if ((group != groups.end() && !Accumulate(group->second, failed, usage, cost, baseline)) ||
        !Accumulate(report.total, failed, usage, cost, baseline)) {
      return detail::SumOverflow();
    }
  }
  std::vector<std::pair<std::string, SpendRow>> sorted(groups.begin(), groups.end());
  if (!InTimeOrder(by)) {  // the SQL path's order: cost descending, then raw key
    std::stable_sort(sorted.begin(), sorted.end(),
                     [](const auto& a, const auto& b) { return a.second.cost > b.second.cost; });
  }
  for (auto& [key, group] : sorted) {
    group.key = detail::GroupDisplayKey(by, key);
    report.groups.push_back(std::move(group));
  }
  return report;
}

core::Result<SpendReport> QueryReport(detail::ReportSource& source, const SpendQuery& q,
                                      const Reprice* baseline) {
  const detail::RequestFilter filter{q.from_ms, q.to_ms, q.tenant};
  // One read transaction, so the groups and the total see the same snapshot.
  if (auto s = source.Begin(); !s) return std::move(s).error();
  auto groups = QueryGroups(source, q.by, filter, q.max_groups);
  if (groups && baseline != nullptr) {
    auto report = QueryRepriced(source, q.by, filter, *baseline, *groups);
    (void)source.End();
    return report;
  }
  auto total = groups ? QueryTotal(source, filter) : core::Result<SpendRow>(groups.error());
  (void)source.End();
  if (!groups) return std::move(groups).error();
  if (!total) return std::move(total).error();
  SpendReport report;
  for (SpendRow& row : groups->rows) {
    row.key = detail::GroupDisplayKey(q.by, row.key);
    report.groups.push_back(std::move(row));
  }
  report.more_groups = groups->more;
  report.total = std::move(*total);
  return report;
}

std::string JsonFields(const SpendRow& row) {
  std::string out = "\"requests\":" + std::to_string(row.requests) +
                    ",\"failed\":" + std::to_string(row.failed) +
                    ",\"input_tokens\":" + std::to_string(row.input_tokens) +
                    ",\"cached_input_tokens\":" + std::to_string(row.cached_input_tokens) +
                    ",\"output_tokens\":" + std::to_string(row.output_tokens) +
                    ",\"cost_usd\":" + detail::JsonQuoted(row.cost.ToString()) +
                    ",\"cost_cents\":" + detail::JsonQuoted(row.cost.ToCents());
  if (row.baseline_cost) {
    out += ",\"baseline_cost_usd\":" + detail::JsonQuoted(row.baseline_cost->ToString()) +
           // In range: Accumulate, which built every row with a baseline, checked it.
           ",\"savings_usd\":" + detail::JsonQuoted((*row.baseline_cost - row.cost).ToString());
  }
  return out;
}

using Cells = core::TableRow;

Cells TableCells(const std::string& key, const SpendRow& row, bool with_baseline) {
  Cells cells = {key,
                 std::to_string(row.requests),
                 std::to_string(row.failed),
                 std::to_string(row.input_tokens),
                 std::to_string(row.cached_input_tokens),
                 std::to_string(row.output_tokens),
                 row.cost.ToString(),
                 row.cost.ToCents()};
  if (with_baseline) {
    const core::Money baseline = row.baseline_cost.value_or(core::Money());
    cells.push_back(baseline.ToString());
    cells.push_back((baseline - row.cost).ToString());  // in range: checked by Accumulate
  }
  return cells;
}

// Digits only, exactly `n` of them, from `text` at `pos`; -1 when not.
int Digits(std::string_view text, size_t pos, size_t n) {
  if (pos + n > text.size()) return -1;
  int value = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (text[i] < '0' || text[i] > '9') return -1;
    value = value * 10 + (text[i] - '0');
  }
  return value;
}

std::optional<int64_t> ParseDateTime(std::string_view text) {
  using namespace std::chrono;
  const bool date_only = text.size() == 10;
  if (!date_only && text.size() != 20) return std::nullopt;
  const int y = Digits(text, 0, 4);
  const int mo = Digits(text, 5, 2);
  const int d = Digits(text, 8, 2);
  if (y < 0 || mo < 0 || d < 0 || text[4] != '-' || text[7] != '-') return std::nullopt;
  const year_month_day ymd{year(y), month(static_cast<unsigned>(mo)),
                           day(static_cast<unsigned>(d))};
  if (!ymd.ok()) return std::nullopt;
  int64_t ms = duration_cast<milliseconds>(sys_days(ymd).time_since_epoch()).count();
  if (date_only) return ms;
  const int h = Digits(text, 11, 2);
  const int mi = Digits(text, 14, 2);
  const int s = Digits(text, 17, 2);
  if (text[10] != 'T' || text[13] != ':' || text[16] != ':' || text[19] != 'Z' || h < 0 || h > 23 ||
      mi < 0 || mi > 59 || s < 0 || s > 59) {
    return std::nullopt;
  }
  return ms + ((int64_t{h} * 60 + mi) * 60 + s) * 1000;
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
    case GroupBy::kProvider:
      return "provider";
    case GroupBy::kKey:
      return "key";
    case GroupBy::kHour:
      return "hour";
  }
  return "model";
}

core::Result<GroupBy> ParseGroupBy(std::string_view name) {
  for (GroupBy by : kAllGroupings) {
    if (GroupByName(by) == name) return by;
  }
  return core::MakeError(core::Errc::kInvalidRequest,
                         "unknown grouping \"" + core::ClipForEcho(name, 64) +
                             "\": use model, provider, tenant, key, task, task_type, rule, day "
                             "or hour");
}

core::Result<SpendReport> QuerySpend(const std::string& db_path, const SpendQuery& q,
                                     const Reprice* baseline, std::string baseline_name) {
  auto source = detail::OpenReportSource(db_path);
  if (!source) return std::move(source).error();
  auto report = QueryReport(**source, q, baseline);
  if (!report) return detail::WithPath((*source)->name(), std::move(report).error());
  report->group_by = q.by;
  if (baseline != nullptr) report->baseline = std::move(baseline_name);
  return report;
}

core::Result<SpendReport> QuerySpend(const std::string& db_path, GroupBy by) {
  SpendQuery q;
  q.by = by;
  return QuerySpend(db_path, q);
}

core::Result<int64_t> ParseTimeBound(std::string_view text) {
  // Unix seconds: up to 11 digits (beyond year 5000), so the milliseconds cannot overflow.
  if (!text.empty() && text.size() <= 11 &&
      std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return std::stoll(std::string(text)) * 1000;
  }
  if (auto ms = ParseDateTime(text)) return *ms;
  return core::MakeError(core::Errc::kInvalidRequest,
                         "invalid time \"" + std::string(text.substr(0, 64)) +
                             "\": use YYYY-MM-DD, YYYY-MM-DDTHH:MM:SSZ (UTC) or unix seconds");
}

std::string FormatTable(const SpendReport& report) {
  const bool with_baseline = !report.baseline.empty();
  std::vector<Cells> rows;
  rows.push_back({std::string(GroupByName(report.group_by)), "requests", "failed", "input",
                  "cached", "output", "cost_usd", "cost_cents"});
  if (with_baseline) {
    rows[0].push_back("baseline_usd");
    rows[0].push_back("savings_usd");
  }
  for (const SpendRow& row : report.groups) {
    rows.push_back(TableCells(row.key, row, with_baseline));
  }
  rows.push_back(TableCells("TOTAL", report.total, with_baseline));
  std::string out;
  if (with_baseline) out += "baseline: " + report.baseline + "\n";
  out += core::AlignedTable(rows, {.total_rule = true});
  if (report.more_groups) {
    out += "(more groups than the " + std::to_string(report.groups.size()) +
           " shown; TOTAL counts them all)\n";
  }
  return out;
}

std::string FormatJson(const SpendReport& report) {
  std::string out = "{\"group_by\":" + detail::JsonQuoted(GroupByName(report.group_by));
  if (!report.baseline.empty()) out += ",\"baseline\":" + detail::JsonQuoted(report.baseline);
  out += ",\"groups\":[";
  for (size_t i = 0; i < report.groups.size(); ++i) {
    if (i > 0) out += ',';
    out += "{\"key\":" + detail::JsonQuoted(report.groups[i].key) + "," +
           JsonFields(report.groups[i]) + "}";
  }
  out += "],\"has_more\":" + std::string(report.more_groups ? "true" : "false") + ",\"total\":{" +
         JsonFields(report.total) + "}}\n";
  return out;
}

}  // namespace sy::ledger
