// Enforcement when several replicas share their limits (shared_state.redis_url): the decisions of
// limiter.h taken on this replica's allowances (allowance.h) instead of on its own counters, and
// what to ask Redis when an allowance does not cover a request. Pure functions over Accounts and
// plain calls; the I/O is shared/counters.h's.
//
// A request is admitted from the allowances of its key and tenant when they cover it (no Redis
// round trip); otherwise SharedAdmit lists the SharedCalls to make, the caller makes them (one
// round trip), applies the replies with ApplyReply and asks SharedAdmit again, this time with
// `last_round`, so what is still not covered is refused with the shared figures.
//
// Calls are filled in two steps: the request path says what it wants (kind, subject, want, need,
// limit); the one thread that talks to Redis fills what the account must report (TakeReport)
// right before sending and applies the reply right after, so two calls of one account never
// report the same spend or disagree on its hold. A call that failed is given back (GiveBack).
//
// Thread-safety: SharedAdmit, SharedReserve and SharedSettle lock the key's and the tenant's
// accounts (that order, as limiter.h); the per-account functions REQUIRE the account's mutex.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "core/money.h"
#include "core/result.h"
#include "limits/budget.h"
#include "limits/directory.h"
#include "limits/limiter.h"

namespace sy::limits {

struct SharedCall {
  // kAuxiliary: the bucket of count_tokens, route explain, feedback and the reports (limiter.h
  // Admission), its own hash.
  enum class Kind : uint8_t { kBudget, kRequests, kTokens, kAuxiliary };
  Kind kind = Kind::kBudget;
  bool tenant = false;           // the key's tenant rather than the key
  Period period = Period::kDay;  // kBudget
  int64_t index = 0;             // kBudget: the period's index
  int64_t want = 0;              // grant (nano-USD or units) asked for; 0: only report
  int64_t need = 1;              // kBudget: a smaller grant is useless, none is given
  int64_t cover = 1;             // kBudget: once the allowance covers this, the call wants nothing
  int64_t limit = 0;             // kBudget: nano-USD; rates: per minute
  bool release = false;          // kBudget: give the whole hold back (shutdown)
  // Filled by TakeReport, on the Redis thread.
  int64_t delta = 0;    // kBudget: spend to add to the shared total
  int64_t hold = 0;     // kBudget: this replica's hold before the grant
  int64_t granted = 0;  // kBudget: the allowance when the call was sent
  int64_t seed = 0;     // kBudget: the shared spend to start from when Redis has none
  int64_t debit = 0;    // kTokens: the debt to pay into the bucket
};

struct SharedReply {
  int64_t grant = 0;
  int64_t spent = 0;      // kBudget: the shared spend after the call
  int64_t others = 0;     // kBudget: what other replicas hold
  int64_t remaining = 0;  // rates: whole units left in the bucket
  int64_t wait_ms = 0;    // rates: until one unit is back
  int64_t full_ms = 0;    // rates: until the bucket is full
};

// Admission for `key` at `now_ms`: std::nullopt with `calls` filled when Redis must be asked
// first; else the decision (as limits::Admit: a request unit taken from each request lease, or
// for kAuxiliary from each auxiliary lease, on success; kRateLimited or kBudgetExceeded with
// retry_after on refusal; `headers` filled).
std::optional<core::Status> SharedAdmit(const Key& key, int64_t now_ms, int allowance_percent,
                                        bool last_round, std::vector<SharedCall>& calls,
                                        RateHeaders& headers,
                                        Admission admission = Admission::kGeneration);

// budget_check estimate, before the attempts: the calls that make each budget's allowance cover
// `worst_case` beyond what is reserved (none when it already does).
void SharedPrepare(const Key& key, core::Money worst_case, int64_t now_ms, int allowance_percent,
                   std::vector<SharedCall>& calls);

// budget_check estimate, each attempt: reserves `estimate` from the allowances of key and tenant
// and on their local windows, or refuses with kBudgetExceeded. Decided on the allowances, or with
// `local` (Redis down, fail_open) on the local windows as limits::Reserve.
core::Status SharedReserve(const Key& key, core::Money estimate, int64_t now_ms, bool local);

// The request ended: as limits::Settle on the local counters, and `cost` and `tokens` charged
// to the allowances, to be reported. The cost counts in the period holding `received_ms`, as
// limits::Settle's, and in no allowance that has moved on to a later period.
void SharedSettle(const Key& key, core::Money reserved, core::Money cost, int64_t tokens,
                  int64_t received_ms, int64_t now_ms);

// The Redis thread's side, one account (REQUIRES: its mutex held).
// What a report must carry for the account (spend not yet reported, a token debt, holds due for
// renewal within the next `horizon_ms`); none when nothing is due.
// With `release` (shutdown), every hold is due and is given back.
void ReportCalls(Account& account, const Policy& policy, bool tenant, int64_t now_ms,
                 int64_t horizon_ms, bool release, std::vector<SharedCall>& calls);
// Fills the call's report fields from the account and takes them out of it (see above), and
// drops the call's want when the allowance already covers what it was asked for (an earlier call
// topped it up).
void TakeReport(Account& account, int64_t now_ms, SharedCall& call);
// The call failed: what TakeReport took goes back into the account.
void GiveBack(Account& account, const SharedCall& call);
// Applies Redis' reply to a call sent at `sent_at_ms`.
void ApplyReply(Account& account, const SharedCall& call, const SharedReply& reply,
                int64_t sent_at_ms);

// Whether the key or its tenant has any budget or rate limit (else nothing is shared).
bool HasLimits(const Key& key);

}  // namespace sy::limits
