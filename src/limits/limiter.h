// Enforcement on the request path: rate limits and budgets of a key and its tenant, decided on
// their in-memory Accounts (no database round trip).
//
// A request is charged to two subjects, its key and the key's tenant; each may have budgets
// and rate limits, and the tighter one decides. Admit runs once, before the request is read;
// with budget_check estimate, Reserve runs before every attempt (failover and escalation
// included) with that attempt's worst-case cost, and Settle runs once when the request ends
// with what it really cost and the tokens it used.
//
// Which day and month. A request has one instant for its budgets: when it was received
// (core::Request::received_at). Admit, Reserve and Settle decide and charge at it, the ledger
// records it (started_at_ms) and KeyService::SeedSpend sums by it, so the spend a restart seeds
// for a day is what the running gateway charged to that day. A request received before midnight
// and ended after it counts in the day it was received, whose budget its reservations were checked
// against.
//
// Thread-safety: all functions may run concurrently; each locks the key's account, then the
// tenant's (always in that order, so two requests never deadlock).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/money.h"
#include "core/result.h"
#include "limits/directory.h"

namespace sy::limits {

enum class BudgetCheck { kEstimate, kAfter };

// One limit's state for OpenAI's x-ratelimit-{limit,remaining,reset}-{requests,tokens}.
struct RateState {
  int64_t limit = 0;
  int64_t remaining = 0;
  int64_t reset_ms = 0;  // until the bucket is full again
};
struct RateHeaders {
  std::optional<RateState> requests;
  std::optional<RateState> tokens;
};

// What a request is admitted as.
//
// kGeneration (the generation endpoints): one unit from the request buckets, and the token
// buckets and budgets checked.
//
// kAuxiliary (POST /v1/messages/count_tokens, POST /v1/route/explain, POST /v1/feedback, GET
// /v1/spend and GET /v1/outcomes): one unit from a request bucket of their own, of the same size as
// the subject's requests_per_minute; no token limit and no budget, since nothing is generated or
// billed. Apart from the generation bucket, as Anthropic limits token counting apart from Messages:
// a client that counts before every request keeps its whole request rate, and still cannot send
// counts (each may call the operator's upstream counter), explanations, feedback (each a row),
// reports or stored-response calls (each holds a thread of the store's pool) without limit. A
// subject without requests_per_minute has no auxiliary limit either.
enum class Admission : uint8_t { kGeneration, kAuxiliary };

// Takes one request from the request buckets of the key and its tenant and, for kGeneration,
// checks their token buckets and budgets at `now_ms`. On refusal nothing is taken, and the error
// is kRateLimited ("Rate limit reached: key key_abc allows 60 requests per minute; try again in
// 2s.", kAuxiliary: "... allows 60 token counts, route explanations, feedback, reports and
// stored-response calls per minute ...", reason "auxiliary_requests") or kBudgetExceeded ("Budget
// exceeded: tenant acme has spent $5.01 of its $5.00 daily budget; the UTC day resets at
// 2026-12-03T00:00:00Z."), with retry_after set. `headers` is filled either way (the tightest of
// key and tenant; kAuxiliary: its own bucket as the requests state, no tokens state).
core::Status Admit(const Key& key, int64_t now_ms, RateHeaders& headers,
                   Admission admission = Admission::kGeneration);

// budget_check estimate: reserves `estimate` (an attempt's worst-case cost) against the budgets
// of the key and its tenant, or fails with kBudgetExceeded saying what the attempt could cost
// and what remains. The caller releases it in Settle.
core::Status Reserve(const Key& key, core::Money estimate, int64_t now_ms);

// The request received at `received_ms` ended at `now_ms`: releases `reserved`, adds `cost` to
// the day and month of key and tenant that hold `received_ms` (limits/budget.h Charge: none when
// the windows have moved on to a later period), and debits `tokens` from their token buckets at
// `now_ms`.
void Settle(const Key& key, core::Money reserved, core::Money cost, int64_t tokens,
            int64_t received_ms, int64_t now_ms);

// Spend of an account in the current day and month (for listings and metrics).
struct SpendNow {
  core::Money day;
  core::Money month;
};
SpendNow CurrentSpend(Account& account, int64_t now_ms);

// Seeds an account with spend already in the ledger for the current day and month (start-up).
void Seed(Account& account, core::Money day, core::Money month, int64_t now_ms);

// "850ms", "1.5s", "6m0s": Go durations, as OpenAI writes x-ratelimit-reset-*.
std::string FormatResetDuration(int64_t ms);

}  // namespace sy::limits
