#include "limits/limiter.h"

#include <algorithm>
#include <array>

#include "limits/detail/charged.h"

namespace sy::limits {
namespace {

using detail::BudgetError;
using detail::Charged;
using detail::Locked;
using detail::RateError;

std::optional<core::Error> CheckBudgets(Charged& s, const std::optional<core::Money>& estimate,
                                        int64_t now_ms) {
  Roll(s.account->day, Period::kDay, now_ms);
  Roll(s.account->month, Period::kMonth, now_ms);
  const Budgets& b = s.policy->budgets;
  if (auto o = CheckWindow(s.account->day, Period::kDay, b.usd_per_day, estimate)) {
    return BudgetError(s, *o, now_ms);
  }
  if (auto o = CheckWindow(s.account->month, Period::kMonth, b.usd_per_month, estimate)) {
    return BudgetError(s, *o, now_ms);
  }
  return std::nullopt;
}

// The tighter of two states: the one with fewer left.
void Tighten(std::optional<RateState>& out, const RateState& s) {
  if (!out || s.remaining < out->remaining) out = s;
}

void FillHeaders(std::array<Charged, 2>& subjects, RateHeaders& headers) {
  for (auto& s : subjects) {
    const RateLimits& l = s.policy->limits;
    if (l.requests_per_minute) {
      const Bucket& b = s.account->requests;
      Tighten(headers.requests,
              {*l.requests_per_minute, Remaining(b), MsUntilFull(b, *l.requests_per_minute)});
    }
    if (l.tokens_per_minute) {
      const Bucket& b = s.account->tokens;
      Tighten(headers.tokens,
              {*l.tokens_per_minute, Remaining(b), MsUntilFull(b, *l.tokens_per_minute)});
    }
  }
}

std::optional<core::Error> CheckRates(std::array<Charged, 2>& subjects, int64_t now_ms) {
  for (auto& s : subjects) {
    const RateLimits& l = s.policy->limits;
    if (l.requests_per_minute) {
      Bucket& b = s.account->requests;
      Refill(b, *l.requests_per_minute, now_ms);
      if (Remaining(b) < 1) {
        return RateError(s, "requests", *l.requests_per_minute,
                         MsUntil(b, *l.requests_per_minute, 1));
      }
    }
    if (l.tokens_per_minute) {
      Bucket& b = s.account->tokens;
      Refill(b, *l.tokens_per_minute, now_ms);
      if (b.level <= 0) {
        return RateError(s, "tokens", *l.tokens_per_minute, MsUntil(b, *l.tokens_per_minute, 1));
      }
    }
  }
  return std::nullopt;
}

// kAuxiliary: one unit from each subject's auxiliary bucket, sized as its requests_per_minute.
core::Status AdmitAuxiliary(std::array<Charged, 2>& subjects, int64_t now_ms,
                            RateHeaders& headers) {
  std::optional<core::Error> refusal;
  for (auto& s : subjects) {
    const auto rpm = s.policy->limits.requests_per_minute;
    if (!rpm) continue;
    Bucket& b = s.account->auxiliary;
    Refill(b, *rpm, now_ms);
    if (!refusal && Remaining(b) < 1) {
      refusal =
          RateError(s, detail::kAuxiliaryReason, detail::kAuxiliaryWhat, *rpm, MsUntil(b, *rpm, 1));
    }
  }
  for (auto& s : subjects) {
    const auto rpm = s.policy->limits.requests_per_minute;
    if (!rpm) continue;
    Bucket& b = s.account->auxiliary;
    if (!refusal) (void)TryTake(b, *rpm, 1, now_ms);
    Tighten(headers.requests, {*rpm, Remaining(b), MsUntilFull(b, *rpm)});
  }
  if (refusal) return *refusal;
  return {};
}

}  // namespace

core::Status Admit(const Key& key, int64_t now_ms, RateHeaders& headers, Admission admission) {
  Locked locked(key);
  auto& subjects = locked.subjects();
  if (admission == Admission::kAuxiliary) return AdmitAuxiliary(subjects, now_ms, headers);
  std::optional<core::Error> refusal = CheckRates(subjects, now_ms);
  for (auto& s : subjects) {
    if (refusal) break;
    refusal = CheckBudgets(s, std::nullopt, now_ms);
  }
  if (!refusal) {
    for (auto& s : subjects) {
      if (auto rpm = s.policy->limits.requests_per_minute) {
        (void)TryTake(s.account->requests, *rpm, 1, now_ms);
      }
    }
  }
  FillHeaders(subjects, headers);
  if (refusal) return *refusal;
  return {};
}

core::Status Reserve(const Key& key, core::Money estimate, int64_t now_ms) {
  Locked locked(key);
  for (auto& s : locked.subjects()) {
    if (auto refusal = CheckBudgets(s, estimate, now_ms)) return *refusal;
  }
  for (auto& s : locked.subjects()) {
    s.account->day.reserved_pico = HoldReservation(s.account->day.reserved_pico, estimate.pico());
    s.account->month.reserved_pico =
        HoldReservation(s.account->month.reserved_pico, estimate.pico());
  }
  return {};
}

void Settle(const Key& key, core::Money reserved, core::Money cost, int64_t tokens,
            int64_t received_ms, int64_t now_ms) {
  Locked locked(key);
  for (auto& s : locked.subjects()) {
    Account& a = *s.account;
    // Reservations belong to no period (Roll keeps them): released whatever the day.
    a.day.reserved_pico = ReleaseReservation(a.day.reserved_pico, reserved.pico());
    a.month.reserved_pico = ReleaseReservation(a.month.reserved_pico, reserved.pico());
    Charge(a.day, Period::kDay, received_ms, cost.pico());
    Charge(a.month, Period::kMonth, received_ms, cost.pico());
    if (auto tpm = s.policy->limits.tokens_per_minute; tpm && tokens > 0) {
      Debit(a.tokens, *tpm, tokens, now_ms);
    }
  }
}

SpendNow CurrentSpend(Account& account, int64_t now_ms) {
  std::lock_guard<std::mutex> lock(account.mu);
  Roll(account.day, Period::kDay, now_ms);
  Roll(account.month, Period::kMonth, now_ms);
  return {core::Money::FromPico(account.day.spent_pico),
          core::Money::FromPico(account.month.spent_pico)};
}

void Seed(Account& account, core::Money day, core::Money month, int64_t now_ms) {
  std::lock_guard<std::mutex> lock(account.mu);
  Roll(account.day, Period::kDay, now_ms);
  Roll(account.month, Period::kMonth, now_ms);
  account.day.spent_pico = day.pico();
  account.month.spent_pico = month.pico();
}

std::string FormatResetDuration(int64_t ms) {
  ms = std::max<int64_t>(0, ms);
  if (ms < 1000) return std::to_string(ms) + "ms";
  if (ms < 60'000) {
    std::string s = std::to_string(ms / 1000);
    if (const int64_t frac = ms % 1000; frac != 0) {
      std::string digits = std::to_string(1000 + frac).substr(1);
      while (digits.back() == '0') digits.pop_back();
      s += "." + digits;
    }
    return s + "s";
  }
  const int64_t seconds = (ms + 999) / 1000;
  return std::to_string(seconds / 60) + "m" + std::to_string(seconds % 60) + "s";
}

}  // namespace sy::limits
