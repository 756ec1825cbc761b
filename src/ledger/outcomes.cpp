#include "ledger/outcomes.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <map>
#include <utility>

#include "core/table.h"
#include "core/text.h"
#include "ledger/detail/report.h"
#include "ledger/detail/report_source.h"
#include "ledger/detail/schema.h"

namespace sy::ledger {
namespace {

constexpr std::array kAllOutcomeGroupings = {OutcomeBy::kModel, OutcomeBy::kTaskType,
                                             OutcomeBy::kRule};
// Columns used here came with these schema versions; older files read as if migrated.
constexpr int64_t kAttemptOutcomeSchema = 2;
constexpr int64_t kVerdictSchema = 5;
constexpr int64_t kFeedbackSchema = 6;

struct Feedback {
  bool success = false;
  bool retried = false;
  bool edited = false;
  std::optional<double> score;
};

struct Task {
  std::string group;  // of its last request with one so far (requests are read in time order)
  int64_t cost_pico = 0;
  int64_t attempts = 0;
  int64_t rejected_attempts = 0;
  int64_t verified_attempts = 0;
  std::optional<Feedback> feedback;  // the latest so far (feedback is read in time order)
};

// Where a task's rows are in the report's one stream: its tenant, its task id, and for a request
// without one that request's row (such a request is a task of its own).
struct TaskKey {
  std::string tenant;
  std::string task_id;
  int64_t row = 0;
  bool operator==(const TaskKey&) const = default;
};

// Outcome groups are spend groups by another name: the same keys, shown the same way.
GroupBy AsGroupBy(OutcomeBy by) {
  switch (by) {
    case OutcomeBy::kModel:
      return GroupBy::kModel;
    case OutcomeBy::kTaskType:
      return GroupBy::kTaskType;
    case OutcomeBy::kRule:
      return GroupBy::kRule;
  }
  return GroupBy::kModel;
}

core::Error Overflow() {
  return core::MakeError(core::Errc::kInternal,
                         "an outcome cost sum overflows 64-bit pico-dollars");
}

// Reads every row of `rows` into `each`; stops at the first error.
template <class Each>
core::Status ForEachRow(core::Result<std::unique_ptr<detail::ReportRows>> rows, Each each) {
  if (!rows) return std::move(rows).error();
  for (;;) {
    auto next = (*rows)->Next();
    if (!next) return std::move(next).error();
    if (!*next) return {};
    if (auto s = each(**rows); !s) return s;
  }
}

// `condition` as 1 or 0: an integer in both dialects.
std::string AsInt(const std::string& condition) {
  return "CASE WHEN " + condition + " THEN 1 ELSE 0 END";
}

// One stream, in task order: each task's requests (kind 0, in time order, each with its attempt
// counts), then the feedback rows that name the task or one of its selected requests (kind 1, in
// the order they were written, so the last is the latest). Columns: tenant, task id, row (a
// request without a task id: its own; else 0), kind, time, arrival, group, cost_pico, attempts
// sent, rejected, verified, outcome, score, user_retried, user_edited. The engine sorts it, on
// its own temporary storage: the report holds one task and the groups at a time, however many
// requests the range selects.
std::string StreamSql(const detail::ReportSource& source, OutcomeBy by,
                      const detail::RequestFilter& filter) {
  const int64_t version = source.version();
  const detail::SqlDialect dialect = source.dialect();
  const std::string outcome = version >= kAttemptOutcomeSchema ? "a.outcome" : "''";
  const std::string verdict = version >= kVerdictSchema ? "a.verdict" : "''";
  const std::string sent = "a.request_row IS NOT NULL AND NOT (" + outcome + " = 'skipped')";
  const std::string rejected =
      sent + " AND (" + outcome + " = 'rejected' OR " + verdict + " LIKE 'recorded: rejected%')";
  const std::string verified = sent + " AND " + verdict + " <> ''";
  std::string sql =
      "SELECT * FROM (SELECT r.tenant AS t, r.task_id AS k, CASE WHEN r.task_id = '' THEN r.id "
      "ELSE 0 END AS rw, 0 AS kind, r.started_at_ms AS at, r.id AS seq, " +
      detail::GroupKeyExpression(AsGroupBy(by), version, dialect) + " AS grp, r.cost_pico, SUM(" +
      AsInt(sent) + "), SUM(" + AsInt(rejected) + "), SUM(" + AsInt(verified) +
      "), '' AS outcome, NULL AS score, 0 AS retried, 0 AS edited FROM requests r LEFT JOIN "
      "attempts a ON a.request_row = r.id" +
      detail::WhereClause(filter, "r.", dialect) + " GROUP BY r.id";
  if (version >= kFeedbackSchema) {
    // Arrival order breaks ties in time: SQLite's rowid, PostgreSQL's seq.
    const std::string arrival = dialect == detail::SqlDialect::kSqlite ? "f.rowid" : "f.seq";
    const std::string rated = ", 1, f.created_at_ms, " + arrival +
                              ", '', 0, 0, 0, 0, f.outcome, f.score, f.user_retried, f.user_edited";
    // Only the tenant's own feedback, when the report is a tenant's: the feedback_tenant_task
    // index finds it (audit 4: a tenant's report sorted every tenant's feedback).
    const std::string own =
        filter.tenant ? " AND f.tenant = " + detail::TenantParameter(filter, dialect) : "";
    // Feedback naming a request counts for that request's task, when the request is selected.
    // Each rating finds its request by id: SQLite, given the tenant, searched the tenant's
    // requests for every rating instead.
    const std::string by_id =
        dialect == detail::SqlDialect::kSqlite ? " INDEXED BY requests_request_id" : "";
    const std::string where = detail::WhereClause(filter, "q.", dialect);
    sql += " UNION ALL SELECT f.tenant, f.task_id, 0" + rated +
           " FROM feedback f WHERE f.task_id <> ''" + own +
           " UNION ALL SELECT q.tenant, q.task_id, CASE WHEN q.task_id = '' THEN q.id ELSE 0 END" +
           rated + " FROM feedback f JOIN requests q" + by_id +
           " ON q.tenant = f.tenant AND q.request_id = f.request_id" +
           (where.empty() ? " WHERE" : where + " AND") + " f.task_id = ''" + own;
  }
  return sql + ") u ORDER BY " + detail::InByteOrder("u.t", dialect) + ", " +
         detail::InByteOrder("u.k", dialect) + ", u.rw, u.kind, u.at, u.seq";
}

// StreamSql's columns, in its order.
enum Column : int {
  kTenant,
  kTaskId,
  kRow,
  kKind,  // 0: a request, 1: a rating
  kTime,
  kArrival,
  kGroup,
  kCost,
  kSent,
  kRejected,
  kVerified,
  kOutcome,
  kScore,
  kRetried,
  kEdited,
};

bool IsRequest(const detail::ReportRows& r) { return r.Int(kKind) == 0; }

// Adds one row of StreamSql's to `task`: a request, or a rating of a task that has requests.
core::Status AddRow(const detail::ReportRows& r, bool has_requests, Task& task) {
  if (IsRequest(r)) {
    // A request refused before it was routed or answered (a 429, a 401) has no group; it does
    // not move its task out of the group its answered requests put it in.
    if (std::string group = r.Text(kGroup); !group.empty() || task.group.empty()) {
      task.group = std::move(group);
    }
    if (__builtin_add_overflow(task.cost_pico, r.Int(kCost), &task.cost_pico)) return Overflow();
    task.attempts += r.Int(kSent);
    task.rejected_attempts += r.Int(kRejected);
    task.verified_attempts += r.Int(kVerified);
  } else if (has_requests) {
    Feedback feedback;
    feedback.success = r.Text(kOutcome) == "success";
    if (!r.IsNull(kScore)) feedback.score = r.Double(kScore);
    feedback.retried = r.Int(kRetried) != 0;
    feedback.edited = r.Int(kEdited) != 0;
    task.feedback = feedback;
  }
  return {};
}

// A row and the sums behind its avg_score.
struct Accumulator {
  OutcomeRow row;
  double score_sum = 0;
  int64_t scores = 0;
};

bool Add(Accumulator& acc, const Task& task) {
  OutcomeRow& r = acc.row;
  int64_t cost = 0;
  if (__builtin_add_overflow(r.cost.pico(), task.cost_pico, &cost)) return false;
  r.cost = core::Money::FromPico(cost);
  r.tasks += 1;
  r.attempts += task.attempts;
  r.rejected_attempts += task.rejected_attempts;
  r.verified_attempts += task.verified_attempts;
  if (task.feedback) {
    const Feedback& f = *task.feedback;
    r.rated += 1;
    r.successes += f.success ? 1 : 0;
    r.failures += f.success ? 0 : 1;
    r.retried += f.retried ? 1 : 0;
    r.edited += f.edited ? 1 : 0;
    if (f.score) {
      acc.score_sum += *f.score;
      acc.scores += 1;
    }
  }
  return true;
}

OutcomeRow Finish(Accumulator acc) {
  if (acc.scores > 0) acc.row.avg_score = acc.score_sum / static_cast<double>(acc.scores);
  return std::move(acc.row);
}

// The groups of a report as tasks are added to them, by raw key.
struct Groups {
  std::map<std::string, Accumulator> by_key;
  Accumulator total;
  bool Count(const Task& task) { return Add(by_key[task.group], task) && Add(total, task); }
};

OutcomeReport Summarise(OutcomeBy by, Groups groups) {
  OutcomeReport report;
  report.by = by;
  for (auto& [key, acc] : groups.by_key) {
    report.groups.push_back(Finish(std::move(acc)));
    report.groups.back().key = detail::GroupDisplayKey(AsGroupBy(by), key);
  }
  std::stable_sort(report.groups.begin(), report.groups.end(),
                   [](const OutcomeRow& a, const OutcomeRow& b) { return a.cost > b.cost; });
  report.total = Finish(std::move(groups.total));
  return report;
}

core::Result<OutcomeReport> QueryReport(detail::ReportSource& source, const OutcomeQuery& q) {
  const detail::RequestFilter filter{q.from_ms, q.to_ms, q.tenant};
  Groups groups;
  std::optional<TaskKey> key;  // the task being read
  Task task;
  bool has_requests = false;  // feedback alone names a task outside the selection
  const auto finish_task = [&]() -> core::Status {
    if (key && has_requests && !groups.Count(task)) return Overflow();
    return {};
  };
  // One read transaction: requests, attempts and feedback from the same snapshot.
  if (auto s = source.Begin(); !s) return std::move(s).error();
  core::Status status = ForEachRow(source.Query(StreamSql(source, q.by, filter), filter),
                                   [&](const detail::ReportRows& r) -> core::Status {
                                     TaskKey row_key{r.Text(kTenant), r.Text(kTaskId), r.Int(kRow)};
                                     if (!key || row_key != *key) {
                                       if (auto s = finish_task(); !s) return s;
                                       key = std::move(row_key);
                                       task = Task();
                                       has_requests = false;
                                     }
                                     if (auto s = AddRow(r, has_requests, task); !s) return s;
                                     has_requests = has_requests || IsRequest(r);
                                     return {};
                                   });
  if (status) status = finish_task();
  (void)source.End();
  if (!status) return std::move(status).error();
  return Summarise(q.by, std::move(groups));
}

// `numerator / denominator` rounded to 4 decimals without trailing zeros ("0.6667", "0.5",
// "1"), or "null" when the denominator is 0.
std::string Rate(int64_t numerator, int64_t denominator) {
  if (denominator == 0) return "null";
  const double rate = static_cast<double>(numerator) / static_cast<double>(denominator);
  std::array<char, 32> buf{};
  std::snprintf(buf.data(), buf.size(), "%.4f", rate);
  std::string text = buf.data();
  while (text.back() == '0') text.pop_back();
  if (text.back() == '.') text.pop_back();
  return text;
}

std::string Score(const std::optional<double>& score) {
  if (!score) return "null";
  // The mean of scores in 0..1, as a rate over 10^4 so Rate's formatting applies.
  return Rate(std::llround(*score * 10'000), 10'000);
}

std::string CostPerSuccess(const OutcomeRow& row) {
  if (row.successes == 0) return "null";
  return detail::JsonQuoted(core::DivideMoney(row.cost, row.successes).ToString());
}

std::string JsonFields(const OutcomeRow& r) {
  return "\"tasks\":" + std::to_string(r.tasks) + ",\"rated\":" + std::to_string(r.rated) +
         ",\"successes\":" + std::to_string(r.successes) +
         ",\"failures\":" + std::to_string(r.failures) +
         ",\"success_rate\":" + Rate(r.successes, r.rated) +
         ",\"cost_usd\":" + detail::JsonQuoted(r.cost.ToString()) +
         ",\"cost_per_successful_task_usd\":" + CostPerSuccess(r) +
         ",\"retry_rate\":" + Rate(r.retried, r.rated) +
         ",\"edit_rate\":" + Rate(r.edited, r.rated) +
         ",\"attempts\":" + std::to_string(r.attempts) +
         ",\"rejected_attempts\":" + std::to_string(r.rejected_attempts) +
         ",\"verified_attempts\":" + std::to_string(r.verified_attempts) +
         ",\"verification_failure_rate\":" + Rate(r.rejected_attempts, r.verified_attempts) +
         ",\"avg_score\":" + Score(r.avg_score);
}

using Cells = core::TableRow;

std::string Dash(std::string text) { return text == "null" ? "-" : text; }

Cells TableCells(const std::string& key, const OutcomeRow& r) {
  return {key,
          std::to_string(r.tasks),
          std::to_string(r.rated),
          std::to_string(r.successes),
          std::to_string(r.failures),
          Dash(Rate(r.successes, r.rated)),
          r.cost.ToString(),
          r.successes == 0 ? "-" : core::DivideMoney(r.cost, r.successes).ToString(),
          Dash(Rate(r.retried, r.rated)),
          Dash(Rate(r.edited, r.rated)),
          std::to_string(r.attempts),
          std::to_string(r.rejected_attempts),
          Dash(Rate(r.rejected_attempts, r.verified_attempts)),
          Dash(Score(r.avg_score))};
}

}  // namespace

std::string_view OutcomeByName(OutcomeBy by) {
  switch (by) {
    case OutcomeBy::kModel:
      return "model";
    case OutcomeBy::kTaskType:
      return "task_type";
    case OutcomeBy::kRule:
      return "rule";
  }
  return "model";
}

core::Result<OutcomeBy> ParseOutcomeBy(std::string_view name) {
  for (OutcomeBy by : kAllOutcomeGroupings) {
    if (OutcomeByName(by) == name) return by;
  }
  return core::MakeError(
      core::Errc::kInvalidRequest,
      "unknown grouping \"" + core::ClipForEcho(name, 64) + "\": use model, task_type or rule");
}

core::Result<OutcomeReport> QueryOutcomes(const std::string& db_path, const OutcomeQuery& q) {
  auto source = detail::OpenReportSource(db_path);
  if (!source) return std::move(source).error();
  auto report = QueryReport(**source, q);
  if (!report) return detail::WithPath((*source)->name(), std::move(report).error());
  return report;
}

std::string FormatOutcomesJson(const OutcomeReport& report) {
  std::string out =
      "{\"group_by\":" + detail::JsonQuoted(OutcomeByName(report.by)) + ",\"groups\":[";
  for (size_t i = 0; i < report.groups.size(); ++i) {
    if (i > 0) out += ',';
    out += "{\"key\":" + detail::JsonQuoted(report.groups[i].key) + "," +
           JsonFields(report.groups[i]) + "}";
  }
  out += "],\"total\":{" + JsonFields(report.total) + "}}\n";
  return out;
}

std::string FormatOutcomesTable(const OutcomeReport& report) {
  std::vector<Cells> rows;
  rows.push_back({std::string(OutcomeByName(report.by)), "tasks", "rated", "success", "failure",
                  "success_rate", "cost_usd", "usd_per_success", "retry_rate", "edit_rate",
                  "attempts", "rejected", "verify_fail_rate", "avg_score"});
  for (const OutcomeRow& row : report.groups) rows.push_back(TableCells(row.key, row));
  rows.push_back(TableCells("TOTAL", report.total));
  return core::AlignedTable(rows, {.total_rule = true});
}

}  // namespace sy::ledger
