#include "ledger/outcomes.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <map>
#include <unordered_map>
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

// The tasks of a query and how to find them by request row, by (tenant, task id) and by
// (tenant, request id).
struct Tasks {
  std::vector<Task> all;
  std::unordered_map<int64_t, size_t> by_row;
  std::unordered_map<std::string, size_t> by_task_id;
  std::unordered_map<std::string, size_t> by_request_id;
};

// A key that cannot collide across tenants: the tenant, a NUL, the id.
std::string Scoped(const std::string& tenant, const std::string& id) {
  std::string key = tenant;
  key += '\0';
  key += id;
  return key;
}

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

core::Status ReadRequests(detail::ReportSource& source, const OutcomeQuery& q,
                          const detail::RequestFilter& filter, Tasks& tasks) {
  const std::string sql =
      "SELECT id, request_id, task_id, tenant, " +
      detail::GroupKeyExpression(AsGroupBy(q.by), source.version(), source.dialect()) +
      ", cost_pico FROM requests" + detail::WhereClause(filter, "", source.dialect()) +
      " ORDER BY started_at_ms, id";
  return ForEachRow(source.Query(sql, filter), [&](const detail::ReportRows& r) -> core::Status {
    const int64_t row = r.Int(0);
    const std::string request_id = r.Text(1);
    const std::string task_id = r.Text(2);
    const std::string tenant = r.Text(3);
    size_t index = tasks.all.size();
    if (!task_id.empty()) {
      index = tasks.by_task_id.try_emplace(Scoped(tenant, task_id), index).first->second;
    }
    if (index == tasks.all.size()) tasks.all.emplace_back();
    Task& task = tasks.all[index];
    // A request refused before it was routed or answered (a 429, a 401) has no group; it does
    // not move its task out of the group its answered requests put it in.
    if (std::string group = r.Text(4); !group.empty() || task.group.empty()) {
      task.group = std::move(group);
    }
    if (__builtin_add_overflow(task.cost_pico, r.Int(5), &task.cost_pico)) return Overflow();
    tasks.by_row.emplace(row, index);
    if (!request_id.empty()) tasks.by_request_id.emplace(Scoped(tenant, request_id), index);
    return {};
  });
}

// `condition` as 1 or 0: an integer in both dialects.
std::string AsInt(const std::string& condition) {
  return "CASE WHEN " + condition + " THEN 1 ELSE 0 END";
}

core::Status ReadAttempts(detail::ReportSource& source, const detail::RequestFilter& filter,
                          Tasks& tasks) {
  const int64_t version = source.version();
  const std::string outcome = version >= kAttemptOutcomeSchema ? "a.outcome" : "''";
  const std::string verdict = version >= kVerdictSchema ? "a.verdict" : "''";
  const std::string sql =
      "SELECT a.request_row, " + AsInt(outcome + " = 'skipped'") + ", " +
      AsInt(outcome + " = 'rejected' OR " + verdict + " LIKE 'recorded: rejected%'") + ", " +
      AsInt(verdict + " <> ''") + " FROM attempts a JOIN requests r ON r.id = a.request_row" +
      detail::WhereClause(filter, "r.", source.dialect());
  return ForEachRow(source.Query(sql, filter), [&](const detail::ReportRows& r) -> core::Status {
    const auto it = tasks.by_row.find(r.Int(0));
    if (it == tasks.by_row.end()) return {};  // written between the two reads: not in the snapshot
    Task& task = tasks.all[it->second];
    if (r.Int(1) != 0) return {};  // skipped: never sent
    task.attempts += 1;
    task.rejected_attempts += r.Int(2) != 0 ? 1 : 0;
    task.verified_attempts += r.Int(3) != 0 ? 1 : 0;
    return {};
  });
}

core::Status ReadFeedback(detail::ReportSource& source, const detail::RequestFilter& filter,
                          Tasks& tasks) {
  detail::RequestFilter tenant_only;
  tenant_only.tenant = filter.tenant;
  // Arrival order breaks ties in time: SQLite's rowid, PostgreSQL's seq.
  const std::string arrival = source.dialect() == detail::SqlDialect::kSqlite ? "rowid" : "seq";
  const std::string sql =
      "SELECT request_id, task_id, tenant, outcome, score, user_retried, user_edited FROM "
      "feedback" +
      detail::WhereClause(tenant_only, "", source.dialect()) + " ORDER BY created_at_ms, " +
      arrival;
  return ForEachRow(
      source.Query(sql, tenant_only), [&](const detail::ReportRows& r) -> core::Status {
        const std::string request_id = r.Text(0);
        const std::string task_id = r.Text(1);
        const auto& index = task_id.empty() ? tasks.by_request_id : tasks.by_task_id;
        const auto it = index.find(Scoped(r.Text(2), task_id.empty() ? request_id : task_id));
        if (it == index.end()) return {};  // rates requests outside the query
        Feedback feedback;
        feedback.success = r.Text(3) == "success";
        if (!r.IsNull(4)) feedback.score = r.Double(4);
        feedback.retried = r.Int(5) != 0;
        feedback.edited = r.Int(6) != 0;
        tasks.all[it->second].feedback = feedback;
        return {};
      });
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

core::Result<OutcomeReport> Summarise(OutcomeBy by, const Tasks& tasks) {
  std::map<std::string, Accumulator> groups;  // by raw key
  Accumulator total;
  for (const Task& task : tasks.all) {
    if (!Add(groups[task.group], task) || !Add(total, task)) return Overflow();
  }
  OutcomeReport report;
  report.by = by;
  for (auto& [key, acc] : groups) {
    report.groups.push_back(Finish(std::move(acc)));
    report.groups.back().key = detail::GroupDisplayKey(AsGroupBy(by), key);
  }
  std::stable_sort(report.groups.begin(), report.groups.end(),
                   [](const OutcomeRow& a, const OutcomeRow& b) { return a.cost > b.cost; });
  report.total = Finish(std::move(total));
  return report;
}

core::Result<OutcomeReport> QueryReport(detail::ReportSource& source, const OutcomeQuery& q) {
  const detail::RequestFilter filter{q.from_ms, q.to_ms, q.tenant};
  Tasks tasks;
  // One read transaction: requests, attempts and feedback from the same snapshot.
  if (auto s = source.Begin(); !s) return std::move(s).error();
  core::Status status = ReadRequests(source, q, filter, tasks);
  if (status) status = ReadAttempts(source, filter, tasks);
  if (status && source.version() >= kFeedbackSchema) status = ReadFeedback(source, filter, tasks);
  (void)source.End();
  if (!status) return std::move(status).error();
  return Summarise(q.by, tasks);
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
