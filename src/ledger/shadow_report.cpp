#include "ledger/shadow_report.h"

#include <algorithm>
#include <map>
#include <memory>
#include <tuple>
#include <utility>

#include "core/int128.h"
#include "core/table.h"
#include "ledger/detail/report.h"
#include "ledger/detail/report_source.h"
#include "ledger/detail/schema.h"

namespace sy::ledger {
namespace {

using core::Int128;
using core::UInt128;

// The shadows table came with SQLite schema v7 (PostgreSQL v5).
constexpr int64_t kShadowSchema = 7;

// One selected shadow and its live request, as the query returns them.
struct Pair {
  std::string rule;       // the live rule key: "profile/rule", or the rule when no profile
  std::string bare_rule;  // the rule alone
  std::string live_model;
  std::string shadow_model;
  int64_t status = 0;
  int64_t shadow_cost_pico = 0;
  int64_t shadow_latency_ms = 0;
  std::string agreement;
  std::string shadow_verdict;
  bool live_found = false;
  int64_t live_cost_pico = 0;
  int64_t live_latency_ms = 0;
  std::string live_verdict;
};

// A group's counts and the latencies its percentiles are taken from.
struct Group {
  ShadowRow row;
  std::vector<int64_t> live_ms;
  std::vector<int64_t> shadow_ms;
};

using GroupKey = std::tuple<std::string, std::string, std::string>;

// The rows: every selected shadow, its live request (LEFT JOIN: NULLs read as 0 and '' when it
// is not there; the first row should the ledger hold a request id twice) and the live answering
// attempt's verdict. The same statement on both engines.
std::string PairsSql(detail::SqlDialect dialect, const detail::RequestFilter& filter) {
  return "SELECT s.profile, s.rule, s.model, s.status, s.cost_pico, s.latency_ms, s.agreement, "
         "s.verdict, CASE WHEN r.id IS NULL THEN 0 ELSE 1 END, r.chosen_model, r.cost_pico, "
         "r.latency_ms, (SELECT a.verdict FROM attempts a WHERE a.request_row = r.id AND "
         "a.outcome IN ('ok', 'rejected') ORDER BY a.idx DESC LIMIT 1) FROM shadows s LEFT JOIN "
         "requests r ON r.id = (SELECT min(q.id) FROM requests q WHERE q.request_id = "
         "s.shadow_of)" +
         detail::WhereClause(filter, "s.", dialect);
}

std::string RuleKey(const std::string& profile, const std::string& rule) {
  return profile.empty() ? rule : profile + "/" + rule;
}

Pair ReadPair(const detail::ReportRows& r) {
  Pair p;
  p.bare_rule = r.Text(1);
  p.rule = RuleKey(r.Text(0), p.bare_rule);
  p.shadow_model = r.Text(2);
  p.status = r.Int(3);
  p.shadow_cost_pico = r.Int(4);
  p.shadow_latency_ms = r.Int(5);
  p.agreement = r.Text(6);
  p.shadow_verdict = r.Text(7);
  p.live_found = r.Int(8) != 0;
  p.live_model = r.Text(9);
  p.live_cost_pico = r.Int(10);
  p.live_latency_ms = r.Int(11);
  p.live_verdict = r.Text(12);
  return p;
}

bool Selected(const ShadowQuery& q, const Pair& p) {
  return !q.rule || p.rule == *q.rule || p.bare_rule == *q.rule;
}

void Count(VerdictCounts& counts, std::string_view verdict) {
  const int kind = ClassifyVerdict(verdict);
  counts.passed += kind > 0 ? 1 : 0;
  counts.rejected += kind < 0 ? 1 : 0;
}

bool AddMoney(core::Money& sum, int64_t pico) {
  int64_t out = 0;
  if (__builtin_add_overflow(sum.pico(), pico, &out)) return false;
  sum = core::Money::FromPico(out);
  return true;
}

// Adds `p` to `g`; false when a cost sum overflows.
bool Add(Group& g, const Pair& p) {
  ShadowRow& r = g.row;
  r.shadows += 1;
  r.shadow_errors += p.status != 200 ? 1 : 0;
  g.shadow_ms.push_back(p.shadow_latency_ms);
  r.agree_exact += p.agreement == "exact" ? 1 : 0;
  r.agree_json += p.agreement == "json" ? 1 : 0;
  r.differs += p.agreement == "differs" ? 1 : 0;
  r.agreement_unknown +=
      p.agreement != "exact" && p.agreement != "json" && p.agreement != "differs" ? 1 : 0;
  Count(r.shadow_verdicts, p.shadow_verdict);
  if (!p.live_found) return true;
  r.live_found += 1;
  g.live_ms.push_back(p.live_latency_ms);
  Count(r.live_verdicts, p.live_verdict);
  return AddMoney(r.live_cost, p.live_cost_pico) && AddMoney(r.shadow_cost, p.shadow_cost_pico);
}

ShadowRow Finish(Group& g) {
  g.row.live_latency = {NearestRank(g.live_ms, 50), NearestRank(g.live_ms, 95)};
  g.row.shadow_latency = {NearestRank(g.shadow_ms, 50), NearestRank(g.shadow_ms, 95)};
  g.live_ms = {};
  g.shadow_ms = {};
  return std::move(g.row);
}

std::string Shown(std::string key, std::string_view empty) {
  return key.empty() ? std::string(empty) : std::move(key);
}

struct Accumulated {
  std::map<GroupKey, Group> groups;
  Group total;
};

core::Status ReadPairs(detail::ReportSource& source, const ShadowQuery& q, Accumulated& acc) {
  const detail::RequestFilter filter{q.from_ms, q.to_ms, q.tenant};
  auto rows = source.Query(PairsSql(source.dialect(), filter), filter);
  if (!rows) return std::move(rows).error();
  size_t read = 0;
  for (;;) {
    auto next = (*rows)->Next();
    if (!next) return std::move(next).error();
    if (!*next) return {};
    const Pair p = ReadPair(**rows);
    if (!Selected(q, p)) continue;
    if (++read > kMaxShadowRows) {
      return core::MakeError(core::Errc::kInvalidRequest,
                             "more than " + std::to_string(kMaxShadowRows) +
                                 " shadows selected: narrow the range (--from, --to)");
    }
    Group& g = acc.groups[{p.rule, p.live_model, p.shadow_model}];
    if (!Add(g, p) || !Add(acc.total, p)) {
      return core::MakeError(core::Errc::kInternal,
                             "a shadow cost sum overflows 64-bit pico-dollars");
    }
  }
}

// Whether the ledger has a shadows table (a ledger the gateway has not migrated has none).
core::Result<bool> HasShadows(detail::ReportSource& source) {
  if (source.dialect() == detail::SqlDialect::kSqlite) return source.version() >= kShadowSchema;
  auto rows = source.Query("SELECT CASE WHEN to_regclass('shadows') IS NULL THEN 0 ELSE 1 END",
                           detail::RequestFilter{});
  if (!rows) return std::move(rows).error();
  auto next = (*rows)->Next();
  if (!next) return std::move(next).error();
  const bool has = *next && (*rows)->Int(0) == 1;
  rows->reset();  // drains the query before the next one
  return has;
}

ShadowReport Summarise(Accumulated& acc) {
  ShadowReport report;
  for (auto& [key, group] : acc.groups) {
    ShadowRow row = Finish(group);
    row.rule = Shown(std::get<0>(key), "(no rule)");
    row.live_model = Shown(std::get<1>(key), "(none)");
    row.shadow_model = Shown(std::get<2>(key), "(none)");
    report.groups.push_back(std::move(row));
  }
  report.total = Finish(acc.total);
  return report;
}

core::Result<ShadowReport> QueryReport(detail::ReportSource& source, const ShadowQuery& q) {
  Accumulated acc;
  if (auto s = source.Begin(); !s) return std::move(s).error();
  auto has = HasShadows(source);
  core::Status status;
  if (!has) {
    status = std::move(has).error();
  } else if (*has) {
    status = ReadPairs(source, q, acc);
  }
  (void)source.End();
  if (!status) return std::move(status).error();
  return Summarise(acc);
}

// ---- Formatting ----

std::string Optional(const std::optional<int64_t>& value, std::string_view none) {
  return value ? std::to_string(*value) : std::string(none);
}

std::string Counts(const VerdictCounts& c) {
  return "{\"passed\":" + std::to_string(c.passed) + ",\"rejected\":" + std::to_string(c.rejected) +
         "}";
}

std::string JsonFields(const ShadowRow& r) {
  const auto ratio = CostRatio(r.shadow_cost, r.live_cost);
  return "\"shadows\":" + std::to_string(r.shadows) +
         ",\"shadow_errors\":" + std::to_string(r.shadow_errors) +
         ",\"live_found\":" + std::to_string(r.live_found) +
         ",\"live_cost_usd\":" + detail::JsonQuoted(r.live_cost.ToString()) +
         ",\"shadow_cost_usd\":" + detail::JsonQuoted(r.shadow_cost.ToString()) +
         ",\"cost_ratio\":" + (ratio ? detail::JsonQuoted(*ratio) : "null") +
         ",\"live_p50_ms\":" + Optional(r.live_latency.p50_ms, "null") +
         ",\"live_p95_ms\":" + Optional(r.live_latency.p95_ms, "null") +
         ",\"shadow_p50_ms\":" + Optional(r.shadow_latency.p50_ms, "null") +
         ",\"shadow_p95_ms\":" + Optional(r.shadow_latency.p95_ms, "null") +
         ",\"agreement\":{\"exact\":" + std::to_string(r.agree_exact) +
         ",\"json\":" + std::to_string(r.agree_json) + ",\"differs\":" + std::to_string(r.differs) +
         ",\"unknown\":" + std::to_string(r.agreement_unknown) +
         "},\"shadow_verification\":" + Counts(r.shadow_verdicts) +
         ",\"live_verification\":" + Counts(r.live_verdicts);
}

core::TableRow Header() {
  return {"rule",       "live_model", "shadow_model", "shadows",  "errors",   "live_found",
          "live_usd",   "shadow_usd", "ratio",        "live_p50", "live_p95", "shadow_p50",
          "shadow_p95", "exact",      "json",         "differs",  "unknown",  "shadow_pass",
          "shadow_rej", "live_pass",  "live_rej"};
}

core::TableRow Cells(std::string rule, std::string live, std::string shadow, const ShadowRow& r) {
  return {std::move(rule),
          std::move(live),
          std::move(shadow),
          std::to_string(r.shadows),
          std::to_string(r.shadow_errors),
          std::to_string(r.live_found),
          r.live_cost.ToString(),
          r.shadow_cost.ToString(),
          CostRatio(r.shadow_cost, r.live_cost).value_or("-"),
          Optional(r.live_latency.p50_ms, "-"),
          Optional(r.live_latency.p95_ms, "-"),
          Optional(r.shadow_latency.p50_ms, "-"),
          Optional(r.shadow_latency.p95_ms, "-"),
          std::to_string(r.agree_exact),
          std::to_string(r.agree_json),
          std::to_string(r.differs),
          std::to_string(r.agreement_unknown),
          std::to_string(r.shadow_verdicts.passed),
          std::to_string(r.shadow_verdicts.rejected),
          std::to_string(r.live_verdicts.passed),
          std::to_string(r.live_verdicts.rejected)};
}

std::vector<core::TableRow> Rows(const ShadowReport& report, const std::string& total_label) {
  std::vector<core::TableRow> rows{Header()};
  for (const ShadowRow& r : report.groups) {
    rows.push_back(Cells(r.rule, r.live_model, r.shadow_model, r));
  }
  rows.push_back(Cells(total_label, "", "", report.total));
  return rows;
}

}  // namespace

std::optional<int64_t> NearestRank(std::vector<int64_t>& values, int percent) {
  if (values.empty()) return std::nullopt;
  std::sort(values.begin(), values.end());
  const size_t n = values.size();
  // ceil(percent * n / 100), at least 1: the rank of the smallest value covering `percent`.
  const size_t rank = std::max<size_t>(1, (static_cast<size_t>(percent) * n + 99) / 100);
  return values[std::min(rank, n) - 1];
}

std::optional<std::string> CostRatio(core::Money shadow, core::Money live) {
  if (live.pico() == 0) return std::nullopt;
  // The ratio in ten-thousandths, rounded half away from zero; 128 bits: no overflow.
  const Int128 num = static_cast<Int128>(shadow.pico()) * 10'000;
  const Int128 den = live.pico();
  Int128 q = num / den;
  const Int128 rem = num % den;
  const bool negative = (num < 0) != (den < 0);
  if (2 * (rem < 0 ? -rem : rem) >= (den < 0 ? -den : den)) q += negative ? -1 : 1;
  const bool minus = q < 0;
  // |q| / 10^4 <= |shadow| <= 2^63: the whole part fits in 64 unsigned bits.
  const auto magnitude = static_cast<UInt128>(minus ? -q : q);
  std::string frac = std::to_string(static_cast<unsigned>(magnitude % 10'000));
  frac.insert(0, 4 - frac.size(), '0');
  const auto whole = static_cast<unsigned long long>(magnitude / 10'000);
  return (minus ? "-" : "") + std::to_string(whole) + "." + frac;
}

int ClassifyVerdict(std::string_view verdict) {
  if (verdict.starts_with("recorded: ")) verdict.remove_prefix(10);
  if (verdict == "passed") return 1;
  if (verdict.starts_with("rejected")) return -1;
  return 0;
}

core::Result<ShadowReport> QueryShadowReport(const std::string& location, const ShadowQuery& q) {
  auto source = detail::OpenReportSource(location);
  if (!source) return std::move(source).error();
  auto report = QueryReport(**source, q);
  if (!report) return detail::WithPath((*source)->name(), std::move(report).error());
  return report;
}

std::string FormatShadowJson(const ShadowReport& report) {
  std::string out = "{\"groups\":[";
  for (size_t i = 0; i < report.groups.size(); ++i) {
    const ShadowRow& r = report.groups[i];
    if (i > 0) out += ',';
    out += "{\"rule\":" + detail::JsonQuoted(r.rule) +
           ",\"live_model\":" + detail::JsonQuoted(r.live_model) +
           ",\"shadow_model\":" + detail::JsonQuoted(r.shadow_model) + "," + JsonFields(r) + "}";
  }
  out += "],\"total\":{" + JsonFields(report.total) + "}}\n";
  return out;
}

std::string FormatShadowTable(const ShadowReport& report) {
  return core::AlignedTable(Rows(report, "TOTAL"), {.total_rule = true, .text_columns = 3});
}

std::string FormatShadowMarkdown(const ShadowReport& report) {
  return core::MarkdownTable(Rows(report, "**TOTAL**"), 3);
}

}  // namespace sy::ledger
