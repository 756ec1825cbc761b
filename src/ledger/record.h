// ledger::Record: everything recorded about one client request, failed ones included.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/money.h"
#include "core/usage.h"

namespace sy::ledger {

// Every text field of a record is bounded (app's record stage clips it): a row has a size
// bound whatever the client or the upstream sent.
inline constexpr size_t kMaxFieldBytes = 1024;

// One candidate of the route: tried or skipped. A request has one Attempt per candidate
// considered, in order.
struct Attempt {
  std::string model;       // model id (catalog name)
  std::string provider;    // provider name
  std::string deployment;  // the model's deployment it went to ("" when skipped before one)
  std::string outcome;     // "ok", "failed", "skipped" (not sent) or "rejected" (failed checks)
  // The verification verdict: "" when no check ran, "passed", "rejected: <check>: <why>", or
  // "recorded: ..." when verify_mode record only recorded it.
  std::string verdict;
  int http_status = 0;        // upstream status, 0 when there was no answer (timeout, reset)
  std::string error_code;     // core::ErrcName, "" on success
  std::string error_message;  // "" on success; never contains secrets
  int64_t latency_ms = 0;
  core::Usage usage;  // what the upstream billed for this attempt (zero when nothing)
  core::Money cost;   // exact; zero when nothing was billed
};

struct Record {
  std::string request_id;
  int64_t started_at_ms = 0;  // unix epoch milliseconds
  std::string tenant;
  std::string key_id;
  std::string task_id;
  std::string dialect;          // "openai" | "anthropic"
  std::string endpoint;         // "/v1/chat/completions"
  std::string requested_model;  // as asked (model or alias); "" when the body had none
  std::string chosen_model;     // the model that answered; "" when none did
  std::string provider;         // its provider; "" when none did
  std::vector<Attempt> attempts;
  core::Usage usage;       // the sum of the attempts' usage
  core::Money cost;        // exact, the sum of the attempts' costs; zero when nothing was billed
  std::string price_list;  // "standard", "off-peak", ...; "" when no cost
  bool stream = false;
  int status = 0;          // HTTP status returned to the client
  std::string error_code;  // core::ErrcName of the final error, "" on success
  std::string error_message;
  std::string route_reason;  // why this route: "alias economy", "model", ...
  std::string verify;        // the x-switchyard-verify header sent; "" when nothing was verified
  // How routing saw the request (filled by the route stage; "" when it never got that far).
  std::string task_type;   // the classifier's task type: "extraction", "code", "chat", ...
  std::string profile;     // routing profile that chose the route ("auto"); "" for a model or alias
  std::string rule;        // its rule that matched ("cheap-extraction"); "model" or "alias" when
                           // the request named a concrete model or an alias (profile "")
  int64_t latency_ms = 0;  // total, request received to last byte sent
  std::optional<int64_t> ttft_ms;  // to the first streamed content byte sent (streams only)
  // Shadow traffic (a rule's `shadow:`, docs/planning.md). A shadow request's record is kept
  // apart from the live requests (the ledger's shadows table): no spend, outcome or budget
  // report counts it. Its profile, rule and task type are the live request's.
  std::string shadow_of;  // the id of the live request it mirrors; "" on every live request
  // Shadow records: how the shadow's answer compares with the live one: "exact" (same text),
  // "json" (different text, equal JSON values), "differs", or "" when either had no answer.
  std::string agreement;
};

}  // namespace sy::ledger
