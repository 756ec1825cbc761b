#include "app/auth.h"

#include <algorithm>

#include "app/gateway_metrics.h"
#include "app/key_service.h"
#include "app/pipeline.h"
#include "core/saturating.h"
#include "core/text.h"
#include "limits/budget.h"
#include "limits/keys.h"
#include "shared/counters.h"

namespace sy::app {
namespace {

constexpr size_t kMaxAuthorizationBytes = 512;

core::Error Unauthenticated(std::string message) {
  return core::MakeError(core::Errc::kUnauthenticated, std::move(message));
}

core::Error Forbidden(std::string message) {
  return core::MakeError(core::Errc::kForbidden, std::move(message));
}

bool PrintableAscii(std::string_view text) {
  return std::all_of(text.begin(), text.end(), [](char c) { return c >= 0x20 && c <= 0x7e; });
}

int64_t UnixMs(const RequestContext& ctx) { return core::UnixMs(ctx.request.received_at); }

bool Listed(const std::vector<std::string>& list, std::string_view name) {
  return std::find(list.begin(), list.end(), name) != list.end();
}

std::string Joined(const std::vector<std::string>& list) {
  std::string out;
  for (const auto& item : list) out += (out.empty() ? "" : ", ") + item;
  return out;
}

bool ProfileAllowed(const std::vector<std::string>& allowed, std::string_view profile) {
  return std::any_of(allowed.begin(), allowed.end(), [&](const std::string& entry) {
    const std::string_view name =
        std::string_view(entry).starts_with("auto:") ? std::string_view(entry).substr(5) : entry;
    return name == profile;
  });
}

// A profile request keeps only the candidates the key may use.
core::Status KeepAllowedSteps(RequestContext& ctx, const std::vector<std::string>& allowed) {
  std::erase_if(ctx.steps,
                [&](const failover::Step& step) { return !Listed(allowed, step.model->id); });
  if (!ctx.steps.empty()) return {};
  return Forbidden(
      "None of the models routing profile '" + std::string(ctx.decision->profile) +
      "' chose for this request is allowed for this key. Allowed models: " + Joined(allowed) + ".");
}

// One rate's three header names, spelled out: concatenated per answer they were three
// allocations each.
struct RateNames {
  std::string_view limit;
  std::string_view remaining;
  std::string_view reset;
};
constexpr RateNames kRequestRate{"x-ratelimit-limit-requests", "x-ratelimit-remaining-requests",
                                 "x-ratelimit-reset-requests"};
constexpr RateNames kTokenRate{"x-ratelimit-limit-tokens", "x-ratelimit-remaining-tokens",
                               "x-ratelimit-reset-tokens"};
constexpr RateNames kAnthropicRequestRate{"anthropic-ratelimit-requests-limit",
                                          "anthropic-ratelimit-requests-remaining",
                                          "anthropic-ratelimit-requests-reset"};
constexpr RateNames kAnthropicTokenRate{"anthropic-ratelimit-tokens-limit",
                                        "anthropic-ratelimit-tokens-remaining",
                                        "anthropic-ratelimit-tokens-reset"};

void AddRate(http::Headers& headers, const RateNames& names, const limits::RateState& s) {
  headers.Add(names.limit, std::to_string(s.limit));
  headers.Add(names.remaining, std::to_string(s.remaining));
  headers.Add(names.reset, limits::FormatResetDuration(s.reset_ms));
}

// The same state under Anthropic's names, which its clients read: the reset is the RFC 3339
// instant the bucket is full again, rounded up to the second (never an instant already past).
void AddAnthropicRate(http::Headers& headers, const RateNames& names, const limits::RateState& s,
                      int64_t now_ms) {
  headers.Add(names.limit, std::to_string(s.limit));
  headers.Add(names.remaining, std::to_string(s.remaining));
  const int64_t full_at_ms = core::SaturatingAdd(now_ms, std::max<int64_t>(s.reset_ms, 0));
  headers.Add(names.reset, limits::Rfc3339(core::SaturatingAdd(full_at_ms, 999) / 1000 * 1000));
}

// budget_check estimate, for a routed request whose key or tenant has a budget.
bool ReservesBudget(const RequestContext& ctx) {
  if (!ctx.caller || !ctx.decision) return false;
  if (ctx.services.catalog.config().auth.budget_check != "estimate") return false;
  const limits::Key& key = *ctx.caller->key;
  return key.policy.budgets.usd_per_day || key.policy.budgets.usd_per_month ||
         key.owner->policy.budgets.usd_per_day || key.owner->policy.budgets.usd_per_month;
}

// Routing's candidate for `model`, or null.
const routing::Candidate* CandidateOf(const RequestContext& ctx, const config::ModelConfig& model) {
  for (const auto& candidate : ctx.decision->candidates) {
    if (candidate.model == &model) return &candidate;
  }
  return nullptr;
}

// The model's worst case: at its dearest deployment's price.
core::Money WorstCase(const RequestContext& ctx, const config::ModelConfig& model) {
  const routing::Candidate* candidate = CandidateOf(ctx, model);
  return candidate ? candidate->worst_case_cost : core::Money();
}

// An attempt's worst case: at the price of the deployment it goes to, which it is billed at.
core::Money WorstCase(const RequestContext& ctx, const catalog::Deployment& deployment) {
  const routing::Candidate* candidate = CandidateOf(ctx, *deployment.model);
  if (!candidate) return {};
  for (const routing::DeploymentChoice& choice : candidate->deployments) {
    if (choice.deployment == &deployment) return choice.worst_case_cost;
  }
  return candidate->worst_case_cost;
}

// The most any of the request's steps could cost.
core::Money DearestWorstCase(const RequestContext& ctx) {
  core::Money worst_case;
  for (const failover::Step& step : ctx.steps) {
    worst_case = std::max(worst_case, WorstCase(ctx, *step.model));
  }
  return worst_case;
}

// switchyard_limited_total's `limit` for a rate limit's refusal reason (a fixed set of labels).
std::string_view RateLimitLabel(std::string_view reason) {
  if (reason == "tokens") return "tokens";
  if (reason == "auxiliary_requests") return "auxiliary_requests";
  return "requests";
}

}  // namespace

std::string_view BearerToken(std::string_view authorization) {
  constexpr std::string_view kBearer = "bearer ";
  if (authorization.size() <= kBearer.size() ||
      !http::EqualsIgnoreCase(authorization.substr(0, kBearer.size()), kBearer)) {
    return {};
  }
  std::string_view token = authorization.substr(kBearer.size());
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  while (!token.empty() && token.back() == ' ') token.remove_suffix(1);
  return token;
}

bool PresentsToken(const http::Headers& headers, std::string_view compare_key,
                   std::string_view token) {
  return limits::SameSecret(compare_key, BearerToken(headers.Get("authorization")), token);
}

bool MayScrapeMetrics(const http::Headers& headers, const config::Config& config,
                      std::string_view compare_key) {
  if (config.metrics.token.empty()) return true;
  // Both compared, always: which token matched does not show in the time taken.
  const bool metrics_token = PresentsToken(headers, compare_key, config.metrics.token);
  const bool admin_token = PresentsToken(headers, compare_key, config.auth.admin_token);
  return metrics_token || admin_token;
}

std::optional<std::string> OpenMetricsWarning(const config::Config& config) {
  if (!config.metrics.enabled || config.auth.mode != "keys" || !config.metrics.token.empty()) {
    return std::nullopt;
  }
  const std::string where = config.metrics.token_env.empty()
                                ? "name a variable in metrics.token_env and set it"
                                : "set " + config.metrics.token_env + " (metrics.token_env)";
  return "GET /metrics is open to anyone who can reach the port, and it names tenants and "
         "shows their budgets and spend: " +
         where + " to require Authorization: Bearer <token>";
}

std::string_view AuthFailureReason(const core::Error& error) {
  if (error.code == core::Errc::kForbidden) return "forbidden";
  return error.reason == "missing" || error.reason == "revoked" ? error.reason : "invalid";
}

core::Result<std::string_view> PresentedKey(const http::Headers& headers) {
  const std::string_view authorization = headers.Get("authorization");
  if (!authorization.empty()) {
    if (authorization.size() > kMaxAuthorizationBytes || !PrintableAscii(authorization)) {
      return Unauthenticated("Invalid API key.");
    }
    const std::string_view token = BearerToken(authorization);
    if (token.empty()) return Unauthenticated("Invalid API key.");  // as for any unknown key
    return token;
  }
  const std::string_view api_key = headers.Get("x-api-key");
  if (!api_key.empty()) return api_key;
  auto missing = Unauthenticated(
      "No API key: send Authorization: Bearer sk-sy-... (or x-api-key in Anthropic's dialect).");
  missing.reason = "missing";
  return missing;
}

core::Result<Caller> IdentifyCaller(const http::Headers& headers, const KeyService& keys,
                                    int64_t now_ms) {
  auto presented = PresentedKey(headers);
  if (!presented) return std::move(presented).error();
  auto directory = keys.directory();
  auto key = directory->Authenticate(*presented, keys.hasher(), now_ms);
  if (!key) return std::move(key).error();
  return Caller{std::move(directory), *key, {}, {}};
}

core::Status Authenticate(RequestContext& ctx) {
  if (!ctx.services.keys) return {};
  auto caller = IdentifyCaller(ctx.http.headers, *ctx.services.keys, UnixMs(ctx));
  if (!caller) return std::move(caller).error();
  SetCaller(ctx, std::move(*caller));
  return {};
}

void SetCaller(RequestContext& ctx, Caller caller) {
  ctx.request.tenant = caller.key->tenant;
  ctx.request.key_id = caller.key->id;
  ctx.caller = std::move(caller);
}

std::optional<core::Status> Admit(RequestContext& ctx, limits::Admission admission) {
  if (!ctx.caller) return core::Status();
  if (ctx.services.counters) {
    return ctx.services.counters->TryAdmit(*ctx.caller->key, UnixMs(ctx), ctx.caller->rate,
                                           admission);
  }
  return limits::Admit(*ctx.caller->key, UnixMs(ctx), ctx.caller->rate, admission);
}

http::Task<core::Status> AdmitShared(RequestContext& ctx, limits::Admission admission) {
  ctx.caller->rate = {};
  co_return co_await ctx.services.counters->Admit(*ctx.caller->key, UnixMs(ctx), ctx.caller->rate,
                                                  admission);
}

http::Task<core::Status> AdmitAuxiliary(RequestContext& ctx) {
  core::Status admitted;
  if (auto decided = Admit(ctx, limits::Admission::kAuxiliary)) {
    admitted = std::move(*decided);
  } else {
    admitted = co_await AdmitShared(ctx, limits::Admission::kAuxiliary);
  }
  if (!admitted) CountRefusal(ctx, admitted.error());
  co_return admitted;
}

core::Status CheckNamedScope(const Caller* caller, std::string_view model,
                             std::string_view profile) {
  if (!caller) return {};
  const limits::Policy& policy = caller->key->policy;
  if (!profile.empty()) {
    if (policy.allowed_profiles && !ProfileAllowed(*policy.allowed_profiles, profile)) {
      return Forbidden("This key may not use routing profile '" + std::string(profile) +
                       "'. Allowed profiles: " + Joined(*policy.allowed_profiles) + ".");
    }
    return {};
  }
  if (policy.allowed_models && !Listed(*policy.allowed_models, model)) {
    return Forbidden("This key may not use model '" + core::ClipForEcho(model, 128) +
                     "'. Allowed models: " + Joined(*policy.allowed_models) + ".");
  }
  return {};
}

core::Status CheckKeyScope(RequestContext& ctx) {
  if (!ctx.caller || !ctx.decision) return {};
  const std::string_view profile = ctx.decision->profile;
  if (auto s = CheckNamedScope(&*ctx.caller, ctx.request.model, profile); !s) return s;
  const limits::Policy& policy = ctx.caller->key->policy;
  if (!profile.empty() && policy.allowed_models) {
    return KeepAllowedSteps(ctx, *policy.allowed_models);
  }
  return {};
}

bool NeedsBudgetsPrepared(RequestContext& ctx) {
  if (!ctx.services.counters || !ReservesBudget(ctx)) return false;
  return !ctx.services.counters->Covers(*ctx.caller->key, DearestWorstCase(ctx), UnixMs(ctx));
}

http::Task<void> PrepareBudgets(RequestContext& ctx) {
  co_await ctx.services.counters->Prepare(*ctx.caller->key, DearestWorstCase(ctx), UnixMs(ctx));
}

core::Status ReserveAttempt(RequestContext& ctx, const catalog::Deployment& deployment) {
  if (!ReservesBudget(ctx)) return {};
  const limits::Key& key = *ctx.caller->key;
  const core::Money worst_case = WorstCase(ctx, deployment);
  core::Status reserved = ctx.services.counters
                              ? ctx.services.counters->Reserve(key, worst_case, UnixMs(ctx))
                              : limits::Reserve(key, worst_case, UnixMs(ctx));
  if (!reserved) return reserved;
  // Saturating, as the windows hold it (limits/budget.h HoldReservation): Settle releases this
  // total, which then takes back at least what the windows still hold of it.
  ctx.caller->reserved =
      core::Money::FromPico(core::SaturatingAdd(ctx.caller->reserved.pico(), worst_case.pico()));
  return {};
}

void Settle(RequestContext& ctx) {
  if (!ctx.caller || ctx.caller->settled) return;
  ctx.caller->settled = true;
  int64_t tokens = 0;
  for (const auto& a : ctx.attempts) {
    if (a.usage) {
      tokens = core::SaturatingAdd(
          tokens, core::SaturatingAdd(a.usage->input_tokens, a.usage->output_tokens));
    }
  }
  // The budgets' day is the request's received_at, as the ledger records it (limits/limiter.h);
  // the token buckets are debited now.
  const int64_t received = UnixMs(ctx);
  const int64_t now = core::UnixMs(ctx.services.clock.Now());
  const core::Money cost = RequestCost(ctx).value_or(core::Money());
  const limits::Key& key = *ctx.caller->key;
  if (ctx.services.counters) {
    ctx.services.counters->Settle(key, ctx.caller->reserved, cost, tokens, received, now);
  } else {
    limits::Settle(key, ctx.caller->reserved, cost, tokens, received, now);
  }
  ctx.caller->reserved = {};
}

void CountRefusal(RequestContext& ctx, const core::Error& error) {
  GatewayMetrics* metrics = ctx.services.metrics;
  if (!metrics) return;
  switch (error.code) {
    case core::Errc::kUnauthenticated:
    case core::Errc::kForbidden:
      metrics->ObserveAuthFailure(AuthFailureReason(error));
      break;
    case core::Errc::kRateLimited:
      metrics->ObserveLimited(ctx.request.tenant, RateLimitLabel(error.reason));
      break;
    case core::Errc::kBudgetExceeded:
      metrics->ObserveLimited(ctx.request.tenant,
                              error.reason == "budget_month" ? "budget_month" : "budget_day");
      break;
    default:
      break;
  }
}

void AddRateLimitHeaders(const RequestContext& ctx, http::Headers& headers) {
  if (!ctx.caller) return;
  const auto& rate = ctx.caller->rate;
  if (rate.requests) AddRate(headers, kRequestRate, *rate.requests);
  if (rate.tokens) AddRate(headers, kTokenRate, *rate.tokens);
  if (ctx.request.dialect != core::Dialect::kAnthropicMessages) return;
  if (rate.requests) AddAnthropicRate(headers, kAnthropicRequestRate, *rate.requests, UnixMs(ctx));
  if (rate.tokens) AddAnthropicRate(headers, kAnthropicTokenRate, *rate.tokens, UnixMs(ctx));
}

}  // namespace sy::app
