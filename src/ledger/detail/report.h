// Shared pieces of the ledger's read-only reports (spend.h, outcomes.h). Internal to ledger/.
//
// Thread-safety: free functions; a ReportDb is used by one thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

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

// Which requests a report covers: started_at_ms in [from_ms, to_ms), tenant equal. Unset: no bound.
struct RequestFilter {
  std::optional<int64_t> from_ms;
  std::optional<int64_t> to_ms;
  std::optional<std::string> tenant;
};

// " WHERE <conditions on `table_prefix`started_at_ms and tenant>" using parameters ?1 (from), ?2
// (to) and ?3 (tenant), or "" when the filter is empty. BindFilter binds them; the statement's own
// parameters, if any, start at ?4.
std::string WhereClause(const RequestFilter& filter, std::string_view table_prefix = "");
// REQUIRES: `filter` outlives the statement's next Reset (the tenant is bound without a copy).
void BindFilter(Statement& statement, const RequestFilter& filter);

// The SQL key of a request's routing rule: "profile/rule", or the rule alone when the profile is
// "" ('' before schema v3, whose files have no routing columns).
std::string RuleExpression(int64_t schema_version, std::string_view table_prefix = "");
// `column` of requests when the schema has it (v3 routing columns), else ''.
std::string RoutingColumn(int64_t schema_version, std::string_view column,
                          std::string_view table_prefix = "");

// `text` as a JSON string literal (quotes, backslashes and control characters escaped).
std::string JsonQuoted(std::string_view text);

// The SQL expression a report's groups are keyed on (GROUP BY 1): a rule is "profile/rule", or
// just the rule when the profile is "".
std::string GroupKeyExpression(GroupBy by, int64_t schema_version);
// How an empty group key is shown: "(none)", "(no task)", ...
std::string GroupDisplayKey(GroupBy by, std::string key);

}  // namespace sy::ledger::detail
