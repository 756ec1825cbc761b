// The auth stage and the enforcement that follows it (docs/operations.md, "Keys"):
//
//   Authenticate -> Admit -> (route) CheckKeyScope -> (each attempt) ReserveAttempt -> Settle
//
// All of it reads the in-memory key directory and the key's and tenant's counters; none of it
// touches the database. With shared counters (shared_state.redis_url) the counters are this
// replica's allowances, and only a request they do not cover waits for a Redis round trip
// (AdmitShared, PrepareBudgets). With auth.mode off (Services::keys null) every function lets
// the request through and changes nothing.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "app/context.h"
#include "config/config.h"
#include "core/result.h"
#include "http/headers.h"
#include "http/task.h"
#include "ledger/record.h"

namespace sy::app {

// The credential of an "Authorization: Bearer <token>" value (the scheme case-insensitive,
// spaces around the token dropped); "" when it is not a Bearer credential. The admin token is
// read the same way.
std::string_view BearerToken(std::string_view authorization);

// Whether `headers` carry `token` as their Bearer credential (read as BearerToken reads it): the
// operator tokens' check, for the admin API and /metrics. Compared in constant time: both are
// HMAC'd under `compare_key`, a random key the caller draws once (limits::SameSecret), so neither
// the token's length nor where a guess differs shows in the time taken. An empty `token` never
// matches.
bool PresentsToken(const http::Headers& headers, std::string_view compare_key,
                   std::string_view token);

// Whether a scrape may read GET /metrics: always when metrics.token is not set; else only with
// the metrics token or the admin token as its Bearer credential (PresentsToken).
bool MayScrapeMetrics(const http::Headers& headers, const config::Config& config,
                      std::string_view compare_key);

// The start-up warning for an exposition anyone who reaches the port may read while client keys
// are on (it names tenants and shows their budgets and spend): metrics enabled, auth.mode keys,
// and no metrics token. std::nullopt otherwise. Names the variable, never a value.
std::optional<std::string> OpenMetricsWarning(const config::Config& config);

// The metrics' reason for a refusal by the auth stage: "missing", "invalid", "revoked" or
// "forbidden" (REQUIRES: kUnauthenticated or kForbidden).
std::string_view AuthFailureReason(const core::Error& error);

// The key a client presented: "Authorization: Bearer <key>", else Anthropic's x-api-key.
// Fails with kUnauthenticated when there is none, or when the Authorization header is over
// 512 bytes, not printable ASCII or not a Bearer credential.
core::Result<std::string_view> PresentedKey(const http::Headers& headers);

// The caller whose key `headers` carry, at `now_ms`. Fails with kUnauthenticated ("Invalid API
// key.", or revoked).
core::Result<Caller> IdentifyCaller(const http::Headers& headers, const KeyService& keys,
                                    int64_t now_ms);

// auth: reads the key and sets ctx.caller, ctx.request.tenant and ctx.request.key_id. Fails
// with kUnauthenticated ("Invalid API key.", or revoked).
core::Status Authenticate(RequestContext& ctx);
// Sets ctx.caller, ctx.request.tenant and ctx.request.key_id to a caller identified already
// (Gateway::CallerOf, for the endpoints other than generation).
void SetCaller(RequestContext& ctx, Caller caller);

// admission (generation endpoints): the key's and tenant's rate limits and budgets. Fails with
// kRateLimited or kBudgetExceeded (retry_after set); ctx.caller->rate is filled either way.
// Decided without I/O, except with shared counters (Services::counters) whose allowances do not
// cover the request: then std::nullopt, and AdmitShared decides after one Redis round trip.
// `admission`: kAuxiliary for count_tokens, route explain, feedback and the /v1/ reports
// (AdmitAuxiliary).
std::optional<core::Status> Admit(RequestContext& ctx,
                                  limits::Admission admission = limits::Admission::kGeneration);
http::Task<core::Status> AdmitShared(RequestContext& ctx,
                                     limits::Admission admission = limits::Admission::kGeneration);

// admission (POST /v1/messages/count_tokens, POST /v1/route/explain, POST /v1/feedback, GET
// /v1/spend and GET /v1/outcomes): one request from the
// key's and tenant's auxiliary buckets, the size of their requests_per_minute and apart from the
// generation bucket (limits::Admission). Fails with kRateLimited (retry_after set, reason
// "auxiliary_requests"); ctx.caller->rate is filled either way, so the answer carries the same
// x-ratelimit-* and retry-after headers as a generation refusal. No caller (auth.mode off)
// passes.
http::Task<core::Status> AdmitAuxiliary(RequestContext& ctx);

// The key scope of what a request names, before or without routing: a routing `profile` (when
// not empty) outside the key's allowed_profiles, or else a `model` (a model id, other id or
// alias, as the client wrote it) outside its allowed_models, is kForbidden. No caller (auth.mode
// off) passes.
core::Status CheckNamedScope(const Caller* caller, std::string_view model,
                             std::string_view profile);

// After the route stage: a routing profile the key may not use, or a model or alias it names
// that the key may not use, is kForbidden; for a profile, candidates outside allowed_models are
// dropped (kForbidden when none is left).
core::Status CheckKeyScope(RequestContext& ctx);

// budget_check estimate, before each call: reserves the call's worst-case cost (routing's
// estimate for its model) against the key's and tenant's budgets, or fails with
// kBudgetExceeded. A no-op with budget_check after.
core::Status ReserveAttempt(RequestContext& ctx, const catalog::Deployment& deployment);

// budget_check estimate with shared counters, after routing: whether the key's and tenant's
// allowances must first be made to cover the dearest candidate's worst case (PrepareBudgets, one
// Redis round trip), so that ReserveAttempt decides without I/O.
bool NeedsBudgetsPrepared(RequestContext& ctx);
http::Task<void> PrepareBudgets(RequestContext& ctx);

// Releases what the request reserved and charges what its attempts cost (and their tokens), once:
// a later call does nothing. Called as soon as the cost is final, before the answer is sent
// (so a client's next request already sees it), and again by the record stage for the paths
// that end later (streams, cuts).
void Settle(RequestContext& ctx);

// Counts a refusal by the auth stage or admission in the metrics (auth failures by reason,
// limits by which limit).
void CountRefusal(RequestContext& ctx, const core::Error& error);

// x-ratelimit-{limit,remaining,reset}-{requests,tokens} for the caller's configured limits; for
// an Anthropic client also anthropic-ratelimit-{requests,tokens}-{limit,remaining,reset}, the
// names its API uses, with the reset as an RFC 3339 instant rather than a duration.
void AddRateLimitHeaders(const RequestContext& ctx, http::Headers& headers);

}  // namespace sy::app
