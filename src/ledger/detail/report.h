// Shared pieces of the ledger's read-only reports (spend.h, outcomes.h). Internal to ledger/.
//
// Thread-safety: free functions; a ReportDb is used by one thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "ledger/detail/sqlite.h"
#include "ledger/spend.h"

namespace sy::ledger::detail {

// A report's connection and the schema version of its file (readers must not use newer columns).
struct ReportDb {
  Db db;
  int64_t version = 0;
};

// Opens `path` read-only (never creating it) and checks it holds a ledger schema. Fails with
// kNotFound when the file does not exist, kInternal when it is not a readable ledger; the message
// names the path.
core::Result<ReportDb> OpenForReport(const std::string& path);

// The SQL a report is written in: the statements are shared, a few expressions are not.
enum class SqlDialect { kSqlite, kPostgres };

// Which requests a report covers: started_at_ms in [from_ms, to_ms), tenant equal. Unset: no bound.
struct RequestFilter {
  std::optional<int64_t> from_ms;
  std::optional<int64_t> to_ms;
  std::optional<std::string> tenant;
};

// " WHERE <conditions on `table_prefix`started_at_ms and tenant>", or "" when the filter is empty.
// SQLite: parameters ?1 (from), ?2 (to) and ?3 (tenant), which BindFilter binds; the statement's
// own parameters, if any, start at ?4. PostgreSQL: $1, $2, ... for the bounds that are set, in
// that order (FilterValues), since PostgreSQL cannot type a parameter the statement never uses.
std::string WhereClause(const RequestFilter& filter, std::string_view table_prefix = "",
                        SqlDialect dialect = SqlDialect::kSqlite);
// `column` sorted byte by byte in both engines (SQLite's columns have no other collation;
// PostgreSQL's is the database's unless told "C"), which is std::string's order too.
std::string InByteOrder(const std::string& column, SqlDialect dialect);
// The parameter WhereClause numbers the tenant with, for another condition on the same value in
// the same statement. REQUIRES: filter.tenant is set.
std::string TenantParameter(const RequestFilter& filter, SqlDialect dialect = SqlDialect::kSqlite);
// The values WhereClause(filter, ..., kPostgres) numbers, in its order, as text.
std::vector<std::string> FilterValues(const RequestFilter& filter);
// REQUIRES: `filter` outlives the statement's next Reset (the tenant is bound without a copy).
void BindFilter(Statement& statement, const RequestFilter& filter);

// The SQL key of a request's routing rule: "profile/rule", or the rule alone when the profile is
// "" ('' before schema v3, whose files have no routing columns).
std::string RuleExpression(int64_t schema_version, std::string_view table_prefix = "");
// `column` of requests when the schema has it (v3 routing columns), else ''.
std::string RoutingColumn(int64_t schema_version, std::string_view column,
                          std::string_view table_prefix = "");

// A report's error when one of its sums (tokens or pico-dollars, summed in SQL or in C++) passes
// int64: kInternal, saying so and how to narrow the report. Reports are exact figures or errors,
// never wrapped or saturated ones; such sums come from rows holding saturated counts (an absurd
// upstream usage is recorded as INT64_MAX tokens) or from over 9.2 million USD in one sum.
core::Error SumOverflow();

// `text` as a JSON string literal (quotes, backslashes and control characters escaped).
std::string JsonQuoted(std::string_view text);

// The SQL expression a report's groups are keyed on (GROUP BY 1): a rule is "profile/rule", or
// just the rule when the profile is "".
std::string GroupKeyExpression(GroupBy by, int64_t schema_version,
                               SqlDialect dialect = SqlDialect::kSqlite);
// How an empty group key is shown: "(none)", "(no task)", ...
std::string GroupDisplayKey(GroupBy by, std::string key);

}  // namespace sy::ledger::detail
