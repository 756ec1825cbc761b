// The ledger's requests, attempts and shadows rows as both engines write them: the column lists and
// one function per table that hands a Record's values, in that column order, to an engine's binder.
// One mapping, so SQLite and PostgreSQL rows cannot drift apart. Internal to ledger/.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/usage.h"
#include "ledger/record.h"

namespace sy::ledger::detail {

inline constexpr int kRequestColumnCount = 33;
inline constexpr std::string_view kRequestColumns =
    "request_id, started_at_ms, day, tenant, key_id, task_id, dialect, endpoint, "
    "requested_model, chosen_model, provider, input_tokens, cached_input_tokens, "
    "cache_write_input_tokens, output_tokens, reasoning_tokens, usage_reported, cost_pico, "
    "cost_usd, price_list, stream, status, error_code, error_message, route_reason, latency_ms, "
    "ttft_ms, attempts_count, usage_estimated, task_type, profile, rule, verify";

// request_row is the requests row's id, which the engine assigns: the binder gets it first.
inline constexpr int kAttemptColumnCount = 20;
inline constexpr std::string_view kAttemptColumns =
    "request_row, request_id, idx, model, provider, http_status, error_code, error_message, "
    "latency_ms, outcome, input_tokens, cached_input_tokens, cache_write_input_tokens, "
    "output_tokens, reasoning_tokens, usage_estimated, cost_pico, cost_usd, deployment, verdict";

// A shadow request's row (Record::shadow_of set): its own request's fields, the live request's
// routing, how the answers agreed and the answering attempt's verification verdict.
inline constexpr int kShadowColumnCount = 32;
inline constexpr std::string_view kShadowColumns =
    "request_id, shadow_of, started_at_ms, day, tenant, key_id, task_id, dialect, endpoint, "
    "task_type, profile, rule, model, chosen_model, provider, input_tokens, cached_input_tokens, "
    "cache_write_input_tokens, output_tokens, reasoning_tokens, usage_reported, usage_estimated, "
    "cost_pico, cost_usd, price_list, status, error_code, error_message, latency_ms, "
    "attempts_count, agreement, verdict";

// Values a row computes from a Record; kept alive by the caller while a binder holds views.
struct DerivedText {
  std::string day;       // UtcDay(started_at_ms)
  std::string cost_usd;  // cost.ToString()
};

// Binder: Text(std::string_view), Int(int64_t), Null().
template <class Binder>
void BindTokens(Binder& b, const core::Usage& u) {
  b.Int(u.input_tokens);
  b.Int(u.cached_input_tokens);
  b.Int(u.cache_write_input_tokens);
  b.Int(u.output_tokens);
  b.Int(u.reasoning_tokens);
}

// The kRequestColumns values of `r`, in order.
template <class Binder>
void BindRequest(Binder& b, const Record& r, const DerivedText& derived) {
  b.Text(r.request_id);
  b.Int(r.started_at_ms);
  b.Text(derived.day);
  b.Text(r.tenant);
  b.Text(r.key_id);
  b.Text(r.task_id);
  b.Text(r.dialect);
  b.Text(r.endpoint);
  b.Text(r.requested_model);
  b.Text(r.chosen_model);
  b.Text(r.provider);
  BindTokens(b, r.usage);
  b.Int(r.usage.reported ? 1 : 0);
  b.Int(r.cost.pico());
  b.Text(derived.cost_usd);
  b.Text(r.price_list);
  b.Int(r.stream ? 1 : 0);
  b.Int(r.status);
  b.Text(r.error_code);
  b.Text(r.error_message);
  b.Text(r.route_reason);
  b.Int(r.latency_ms);
  if (r.ttft_ms) {
    b.Int(*r.ttft_ms);
  } else {
    b.Null();
  }
  b.Int(static_cast<int64_t>(r.attempts.size()));
  b.Int(r.usage.estimated ? 1 : 0);
  b.Text(r.task_type);
  b.Text(r.profile);
  b.Text(r.rule);
  b.Text(r.verify);
}

// The kAttemptColumns values of attempt `index` of `r`, in order; `cost_usd` its cost as text.
template <class Binder>
void BindAttempt(Binder& b, int64_t request_row, const Record& r, size_t index,
                 std::string_view cost_usd) {
  const Attempt& a = r.attempts[index];
  b.Int(request_row);
  b.Text(r.request_id);
  b.Int(static_cast<int64_t>(index));
  b.Text(a.model);
  b.Text(a.provider);
  b.Int(a.http_status);
  b.Text(a.error_code);
  b.Text(a.error_message);
  b.Int(a.latency_ms);
  b.Text(a.outcome);
  BindTokens(b, a.usage);
  b.Int(a.usage.estimated ? 1 : 0);
  b.Int(a.cost.pico());
  b.Text(cost_usd);
  b.Text(a.deployment);
  b.Text(a.verdict);
}

// The verdict of the attempt that answered `r`: the last one whose outcome is "ok" or "rejected"
// (a rejected answer may still be the one returned); "" when none answered.
inline std::string_view AnsweringVerdict(const Record& r) {
  for (auto a = r.attempts.rbegin(); a != r.attempts.rend(); ++a) {
    if (a->outcome == "ok" || a->outcome == "rejected") return a->verdict;
  }
  return "";
}

// The kShadowColumns values of shadow record `r`, in order.
template <class Binder>
void BindShadow(Binder& b, const Record& r, const DerivedText& derived) {
  b.Text(r.request_id);
  b.Text(r.shadow_of);
  b.Int(r.started_at_ms);
  b.Text(derived.day);
  b.Text(r.tenant);
  b.Text(r.key_id);
  b.Text(r.task_id);
  b.Text(r.dialect);
  b.Text(r.endpoint);
  b.Text(r.task_type);
  b.Text(r.profile);
  b.Text(r.rule);
  b.Text(r.requested_model);
  b.Text(r.chosen_model);
  b.Text(r.provider);
  BindTokens(b, r.usage);
  b.Int(r.usage.reported ? 1 : 0);
  b.Int(r.usage.estimated ? 1 : 0);
  b.Int(r.cost.pico());
  b.Text(derived.cost_usd);
  b.Text(r.price_list);
  b.Int(r.status);
  b.Text(r.error_code);
  b.Text(r.error_message);
  b.Int(r.latency_ms);
  b.Int(static_cast<int64_t>(r.attempts.size()));
  b.Text(r.agreement);
  b.Text(AnsweringVerdict(r));
}

}  // namespace sy::ledger::detail
