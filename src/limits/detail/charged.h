// What limiter.cpp and shared_limiter.cpp share: the two subjects a request is charged to, locked
// together, and the refusals' messages. Internal to limits/.
#pragma once

#include <algorithm>
#include <array>
#include <chrono>
#include <mutex>
#include <string>
#include <string_view>

#include "core/error.h"
#include "limits/budget.h"
#include "limits/directory.h"
#include "limits/limiter.h"

namespace sy::limits::detail {

// The two subjects a request is charged to, each with its account locked.
struct Charged {
  const Key* key;
  bool tenant;  // the key's tenant rather than the key
  const Policy* policy;
  Account* account;
};

// "key key_abc (tenant acme)" / "tenant acme": built only for an error message.
inline std::string Who(const Charged& s) {
  if (s.tenant) return "tenant " + s.key->tenant;
  return "key " + s.key->id + " (tenant " + s.key->tenant + ")";
}

class Locked {
 public:
  explicit Locked(const Key& key)
      : key_lock_(key.account->mu), tenant_lock_(key.owner->account->mu) {
    subjects_[0] = {&key, false, &key.policy, key.account.get()};
    subjects_[1] = {&key, true, &key.owner->policy, key.owner->account.get()};
  }
  std::array<Charged, 2>& subjects() { return subjects_; }

 private:
  std::lock_guard<std::mutex> key_lock_;
  std::lock_guard<std::mutex> tenant_lock_;
  std::array<Charged, 2> subjects_;
};

inline std::string Usd(core::Money m) { return "$" + m.ToString(); }

inline std::chrono::milliseconds AtLeastOneSecond(int64_t ms) {
  return std::chrono::milliseconds(std::max<int64_t>(1000, ms));
}

inline core::Error BudgetError(const Charged& s, const Overrun& o, int64_t now_ms) {
  const std::string window = o.period == Period::kDay ? "UTC day" : "UTC month";
  std::string message = "Budget exceeded: " + Who(s);
  if (o.estimate) {
    // What is held is the worst cases of attempts not yet settled, this request's earlier ones
    // included (audit 3: read as spend, "remains" looked wrong by their worst case less their
    // cost).
    const core::Money left = o.limit - o.spent - o.reserved - o.held_elsewhere;
    message += ": this request could cost up to " + Usd(*o.estimate) + " and " +
               Usd(std::max(core::Money(), left)) + " of its " + Usd(o.limit) + " " +
               std::string(PeriodAdjective(o.period)) +
               " budget remains after what requests in flight hold";
  } else {
    message += " has spent " + Usd(o.spent) + " of its " + Usd(o.limit) + " " +
               std::string(PeriodAdjective(o.period)) + " budget";
    if (o.held_elsewhere > core::Money()) {
      message += " (other replicas hold " + Usd(o.held_elsewhere) +
                 " of it as allowance; unused, it comes back within seconds)";
    }
  }
  message += "; the " + window + " resets at " + Rfc3339(o.resets_at_ms) + ".";
  auto e = core::MakeError(core::Errc::kBudgetExceeded, std::move(message));
  e.reason = o.period == Period::kDay ? "budget_day" : "budget_month";
  e.retry_after = AtLeastOneSecond(o.resets_at_ms - now_ms);
  return e;
}

// `reason`: "requests", "tokens" or "auxiliary_requests" (a static string); `what` names the
// limited thing in the message ("requests", kAuxiliaryWhat).
inline core::Error RateError(const Charged& s, std::string_view reason, std::string_view what,
                             int64_t limit, int64_t wait_ms) {
  auto e = core::MakeError(core::Errc::kRateLimited,
                           "Rate limit reached: " + Who(s) + " allows " + std::to_string(limit) +
                               " " + std::string(what) + " per minute; try again in " +
                               FormatResetDuration(wait_ms) + ".");
  e.reason = reason;
  e.retry_after = AtLeastOneSecond(wait_ms);
  return e;
}

// "requests" or "tokens": the reason and the message's word.
inline core::Error RateError(const Charged& s, std::string_view what, int64_t limit,
                             int64_t wait_ms) {
  return RateError(s, what, what, limit, wait_ms);
}

inline constexpr std::string_view kAuxiliaryReason = "auxiliary_requests";
inline constexpr std::string_view kAuxiliaryWhat =
    "token counts, route explanations, feedback, reports and stored-response calls";

}  // namespace sy::limits::detail
