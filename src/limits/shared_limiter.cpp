#include "limits/shared_limiter.h"

#include <algorithm>
#include <span>
#include <string_view>
#include <utility>

#include "limits/detail/charged.h"

namespace sy::limits {
namespace {

using detail::BudgetError;
using detail::Charged;
using detail::Locked;
using detail::RateError;

constexpr Period kPeriods[] = {Period::kDay, Period::kMonth};

const std::optional<core::Money>& LimitOf(const Policy& policy, Period period) {
  return period == Period::kDay ? policy.budgets.usd_per_day : policy.budgets.usd_per_month;
}

BudgetAllowance& AllowanceOf(Account& a, Period period) {
  return period == Period::kDay ? a.shared_day : a.shared_month;
}

Window& WindowOf(Account& a, Period period) { return period == Period::kDay ? a.day : a.month; }

RateLease& LeaseOf(Account& a, SharedCall::Kind kind) {
  if (kind == SharedCall::Kind::kAuxiliary) return a.shared_auxiliary;
  return kind == SharedCall::Kind::kRequests ? a.shared_requests : a.shared_tokens;
}

// The allowance of the current period, started over when the period is new.
BudgetAllowance& Current(Account& a, Period period, int64_t now_ms) {
  BudgetAllowance& w = AllowanceOf(a, period);
  RollAllowance(w, PeriodIndex(period, now_ms));
  return w;
}

core::Error SharedBudgetError(const Charged& s, Period period, core::Money limit,
                              const BudgetAllowance& w, std::optional<core::Money> estimate,
                              int64_t now_ms) {
  const Overrun o{.period = period,
                  .limit = limit,
                  .spent = FromNano(w.shared_spent + std::max<int64_t>(0, w.unreported)),
                  .reserved = core::Money::FromPico(w.reserved_pico),
                  .estimate = estimate,
                  .held_elsewhere = FromNano(w.shared_others),
                  .resets_at_ms = PeriodStartMs(period, w.index + 1)};
  return BudgetError(s, o, now_ms);
}

// The tighter of two states: the one with fewer left.
void Tighten(std::optional<RateState>& out, const RateState& s) {
  if (!out || s.remaining < out->remaining) out = s;
}

RateState SharedState(const RateLease& l, int64_t per_minute, int64_t now_ms) {
  const int64_t held = std::max<int64_t>(0, Usable(l, now_ms));
  return {per_minute, std::min(per_minute, l.remaining + held), l.reset_ms};
}

void FillSharedHeaders(std::array<Charged, 2>& subjects, int64_t now_ms, Admission admission,
                       RateHeaders& headers) {
  for (auto& s : subjects) {
    const RateLimits& l = s.policy->limits;
    if (admission == Admission::kAuxiliary) {
      if (l.requests_per_minute) {
        Tighten(headers.requests,
                SharedState(s.account->shared_auxiliary, *l.requests_per_minute, now_ms));
      }
      continue;
    }
    if (l.requests_per_minute) {
      Tighten(headers.requests,
              SharedState(s.account->shared_requests, *l.requests_per_minute, now_ms));
    }
    if (l.tokens_per_minute) {
      Tighten(headers.tokens, SharedState(s.account->shared_tokens, *l.tokens_per_minute, now_ms));
    }
  }
}

// One subject's rate limits: a refusal (last round), a call to make, or nothing (covered).
std::optional<core::Error> CheckSharedRates(Charged& s, int64_t now_ms, int percent,
                                            bool last_round, Admission admission,
                                            std::vector<SharedCall>& calls) {
  const RateLimits& l = s.policy->limits;
  struct Limit {
    std::optional<int64_t> per_minute;
    RateLease& lease;
    SharedCall::Kind kind;
    std::string_view reason;
    std::string_view what;
    int64_t enough;  // requests take one unit; tokens need the lease above zero
  };
  const Limit generation[] = {
      {l.requests_per_minute, s.account->shared_requests, SharedCall::Kind::kRequests, "requests",
       "requests", 1},
      {l.tokens_per_minute, s.account->shared_tokens, SharedCall::Kind::kTokens, "tokens", "tokens",
       1},
  };
  const Limit auxiliary[] = {
      {l.requests_per_minute, s.account->shared_auxiliary, SharedCall::Kind::kAuxiliary,
       detail::kAuxiliaryReason, detail::kAuxiliaryWhat, 1},
  };
  const std::span<const Limit> limits =
      admission == Admission::kAuxiliary ? std::span<const Limit>(auxiliary) : generation;
  for (const Limit& limit : limits) {
    if (!limit.per_minute || Usable(limit.lease, now_ms) >= limit.enough) continue;
    if (last_round) {
      return RateError(s, limit.reason, limit.what, *limit.per_minute, limit.lease.wait_ms);
    }
    calls.push_back({.kind = limit.kind,
                     .tenant = s.tenant,
                     .want = RateWant(*limit.per_minute, percent),
                     .limit = *limit.per_minute});
  }
  return std::nullopt;
}

std::optional<core::Error> CheckSharedBudgets(Charged& s, int64_t now_ms, int percent,
                                              bool last_round, std::vector<SharedCall>& calls) {
  for (Period period : kPeriods) {
    const auto& limit = LimitOf(*s.policy, period);
    if (!limit) continue;
    BudgetAllowance& w = Current(*s.account, period, now_ms);
    if (Covers(w, 1, now_ms)) continue;
    if (last_round) return SharedBudgetError(s, period, *limit, w, std::nullopt, now_ms);
    const int64_t nano_limit = NanoFloor(*limit);
    calls.push_back({.kind = SharedCall::Kind::kBudget,
                     .tenant = s.tenant,
                     .period = period,
                     .index = w.index,
                     .want = BudgetWant(nano_limit, w, 1, percent),
                     .need = 1,
                     .limit = nano_limit});
  }
  return std::nullopt;
}

bool HasAny(const Policy& p) {
  return p.budgets.usd_per_day || p.budgets.usd_per_month || p.limits.requests_per_minute ||
         p.limits.tokens_per_minute;
}

}  // namespace

bool HasLimits(const Key& key) { return HasAny(key.policy) || HasAny(key.owner->policy); }

std::optional<core::Status> SharedAdmit(const Key& key, int64_t now_ms, int allowance_percent,
                                        bool last_round, std::vector<SharedCall>& calls,
                                        RateHeaders& headers, Admission admission) {
  Locked locked(key);
  auto& subjects = locked.subjects();
  calls.clear();
  const bool generation = admission == Admission::kGeneration;
  std::optional<core::Error> refusal;
  for (auto& s : subjects) {
    if (!refusal) {
      refusal = CheckSharedRates(s, now_ms, allowance_percent, last_round, admission, calls);
    }
    if (!refusal && generation) {
      refusal = CheckSharedBudgets(s, now_ms, allowance_percent, last_round, calls);
    }
  }
  if (!refusal && !calls.empty()) return std::nullopt;
  if (!refusal) {
    for (auto& s : subjects) {
      if (s.policy->limits.requests_per_minute) {
        (generation ? s.account->shared_requests : s.account->shared_auxiliary).units -= 1;
      }
      if (!generation) continue;
      for (Period period : kPeriods) {
        if (LimitOf(*s.policy, period)) AllowanceOf(*s.account, period).used_at_ms = now_ms;
      }
    }
  }
  FillSharedHeaders(subjects, now_ms, admission, headers);
  if (refusal) return core::Status(*refusal);
  return core::Status();
}

void SharedPrepare(const Key& key, core::Money worst_case, int64_t now_ms, int allowance_percent,
                   std::vector<SharedCall>& calls) {
  Locked locked(key);
  calls.clear();
  const int64_t need = std::max<int64_t>(1, NanoCeil(worst_case));
  for (auto& s : locked.subjects()) {
    for (Period period : kPeriods) {
      const auto& limit = LimitOf(*s.policy, period);
      if (!limit) continue;
      BudgetAllowance& w = Current(*s.account, period, now_ms);
      if (Covers(w, need, now_ms)) continue;
      const int64_t nano_limit = NanoFloor(*limit);
      // What is missing: a grant of less would still not cover the worst case.
      const int64_t missing = need - std::max<int64_t>(0, Spendable(w, now_ms));
      calls.push_back({.kind = SharedCall::Kind::kBudget,
                       .tenant = s.tenant,
                       .period = period,
                       .index = w.index,
                       .want = BudgetWant(nano_limit, w, missing, allowance_percent),
                       .need = missing,
                       .cover = need,
                       .limit = nano_limit});
    }
  }
}

core::Status SharedReserve(const Key& key, core::Money estimate, int64_t now_ms, bool local) {
  Locked locked(key);
  const int64_t nano = NanoCeil(estimate);
  for (auto& s : locked.subjects()) {
    for (Period period : kPeriods) {
      const auto& limit = LimitOf(*s.policy, period);
      if (!limit) continue;
      if (local) {
        Window& w = WindowOf(*s.account, period);
        Roll(w, period, now_ms);
        if (auto o = CheckWindow(w, period, limit, estimate)) return BudgetError(s, *o, now_ms);
        continue;
      }
      const BudgetAllowance& w = Current(*s.account, period, now_ms);
      if (!Covers(w, nano, now_ms)) {
        return SharedBudgetError(s, period, *limit, w, estimate, now_ms);
      }
    }
  }
  for (auto& s : locked.subjects()) {
    for (Period period : kPeriods) {
      Window& w = WindowOf(*s.account, period);
      Roll(w, period, now_ms);
      w.reserved_pico = HoldReservation(w.reserved_pico, estimate.pico());
      if (!LimitOf(*s.policy, period)) continue;
      BudgetAllowance& a = Current(*s.account, period, now_ms);
      a.reserved_pico = HoldReservation(a.reserved_pico, estimate.pico());
    }
  }
  return {};
}

void SharedSettle(const Key& key, core::Money reserved, core::Money cost, int64_t tokens,
                  int64_t received_ms, int64_t now_ms) {
  // The local counters, which fail_open uses.
  Settle(key, reserved, cost, tokens, received_ms, now_ms);
  Locked locked(key);
  const int64_t spent = NanoCeil(cost);
  for (auto& s : locked.subjects()) {
    for (Period period : kPeriods) {
      if (!LimitOf(*s.policy, period)) continue;
      BudgetAllowance& w = Current(*s.account, period, received_ms);
      w.reserved_pico = ReleaseReservation(w.reserved_pico, reserved.pico());
      // Received in a period the allowance has left: that period's spend, counted nowhere now.
      if (w.index != PeriodIndex(period, received_ms)) continue;
      w.granted -= spent;
      w.unreported += spent;
    }
    if (s.policy->limits.tokens_per_minute) s.account->shared_tokens.units -= tokens;
  }
}

void ReportCalls(Account& account, const Policy& policy, bool tenant, int64_t now_ms,
                 int64_t horizon_ms, bool release, std::vector<SharedCall>& calls) {
  for (Period period : kPeriods) {
    const auto& limit = LimitOf(policy, period);
    if (!limit) continue;
    BudgetAllowance& w = Current(account, period, now_ms);
    // Renewed while in use; an allowance nobody admits from lapses and goes back to the others.
    const bool in_use = now_ms - w.used_at_ms < kHoldMs;
    const bool renew =
        w.granted > 0 && (release || (in_use && w.valid_until_ms - now_ms < horizon_ms));
    if (w.unreported == 0 && !renew) continue;
    calls.push_back({.kind = SharedCall::Kind::kBudget,
                     .tenant = tenant,
                     .period = period,
                     .index = w.index,
                     .want = 0,
                     .limit = NanoFloor(*limit),
                     .release = release});
  }
  // A token debt to pay, or units that lapsed unused to give back (else the bucket would lose
  // them: a busy replica's leases would drain it faster than it refills).
  const std::pair<const std::optional<int64_t>*, SharedCall::Kind> rates[] = {
      {&policy.limits.requests_per_minute, SharedCall::Kind::kRequests},
      {&policy.limits.tokens_per_minute, SharedCall::Kind::kTokens},
      {&policy.limits.requests_per_minute, SharedCall::Kind::kAuxiliary}};
  for (const auto& [per_minute, kind] : rates) {
    if (!*per_minute || Settling(LeaseOf(account, kind), now_ms) == 0) continue;
    calls.push_back({.kind = kind, .tenant = tenant, .want = 0, .limit = **per_minute});
  }
}

void TakeReport(Account& account, int64_t now_ms, SharedCall& call) {
  // A call queued behind one that already topped the allowance up asks for nothing more: when
  // many requests of a replica find it empty at once, one grant serves them all instead of each
  // taking a share (which drained a bucket of a billion a minute under load).
  if (call.kind != SharedCall::Kind::kBudget) {
    RateLease& l = LeaseOf(account, call.kind);
    call.debit = Settling(l, now_ms);
    l.units += call.debit;
    if (Usable(l, now_ms) >= 1) call.want = 0;
    return;
  }
  BudgetAllowance& w = AllowanceOf(account, call.period);
  RollAllowance(w, call.index);
  // A call planned before the period ended reports the period the window is in now: the
  // unreported spend it carries was settled there.
  call.index = w.index;
  if (now_ms >= w.valid_until_ms) w.granted = std::min<int64_t>(w.granted, 0);  // lapsed
  if (Covers(w, call.cover, now_ms)) call.want = 0;
  call.delta = w.unreported;
  w.unreported = 0;
  call.granted = w.granted;
  call.hold = call.release ? 0 : std::max<int64_t>(0, w.granted);
  if (call.release) w.granted = std::min<int64_t>(w.granted, 0);
  // The local window already counts the delta: a hash created now starts without it.
  const int64_t local = NanoCeil(core::Money::FromPico(WindowOf(account, call.period).spent_pico));
  call.seed = std::max<int64_t>(0, local - call.delta);
}

void GiveBack(Account& account, const SharedCall& call) {
  if (call.kind != SharedCall::Kind::kBudget) {
    LeaseOf(account, call.kind).units -= call.debit;
    return;
  }
  BudgetAllowance& w = AllowanceOf(account, call.period);
  if (w.index == call.index) w.unreported += call.delta;
}

void ApplyReply(Account& account, const SharedCall& call, const SharedReply& reply,
                int64_t sent_at_ms) {
  if (call.kind == SharedCall::Kind::kBudget) {
    BudgetAllowance& w = AllowanceOf(account, call.period);
    if (w.index != call.index) return;  // the period ended meanwhile
    // An overrun reported as spend is no longer owed by the allowance.
    w.granted += reply.grant + std::max<int64_t>(0, -call.granted);
    if (call.hold + reply.grant > 0) w.valid_until_ms = sent_at_ms + kHoldMs - kHoldMs / 5;
    w.shared_spent = reply.spent;
    w.shared_others = reply.others;
    // fail_open decides on the local window: keep it at least at the shared figure.
    Window& local = WindowOf(account, call.period);
    Roll(local, call.period, sent_at_ms);
    const int64_t shared_pico = FromNano(reply.spent + std::max<int64_t>(0, w.unreported)).pico();
    local.spent_pico = std::max(local.spent_pico, shared_pico);
    return;
  }
  RateLease& l = LeaseOf(account, call.kind);
  if (reply.grant > 0) {
    l.units += reply.grant;
    l.valid_until_ms = sent_at_ms + kLeaseMs;
  }
  l.remaining = reply.remaining;
  l.reset_ms = reply.full_ms;
  l.wait_ms = reply.wait_ms;
}

}  // namespace sy::limits
