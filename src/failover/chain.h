// failover::RunChain: walks an ordered list of candidate models, each served by one or more
// deployments, until one answers (and its answer passes verification), keeping every attempt's
// outcome.
//
// Rules (docs/routing.md has the long form):
//  - the models are tried in order; a model's deployments in the order its strategy gives
//    (routing::OrderDeployments over the shared Health);
//  - a deployment whose circuit breaker is open, or that is cooling down after an upstream's
//    retry-after, is skipped (recorded as skipped, with the reason) while others remain;
//  - a deployment `prepare` refuses (the request cannot be expressed in its API) is skipped,
//    recorded with the refusal; when every deployment reached was refused, the chain ends with
//    the first refusal;
//  - a retryable failure (IsRetryable) is retried on the same deployment when RetryInPlace says
//    so, up to retries_per_deployment times, after a full-jitter exponential backoff; then the
//    model's next deployment is tried, then the next model; a failure that is not retryable ends
//    the chain;
//  - an answer the attempt function rejects (kVerificationFailed: it failed a check) moves to the
//    next MODEL: another deployment of the same model would write much the same answer;
//  - the very last deployment is retried after its retry-after when that fits max_retry_after
//    and the deadline;
//  - no attempt starts after the deadline, beyond max_attempts (every sent call counts), or once
//    `stopped` says so (the client left, the gateway is shutting down); `admit` may end the
//    chain before any call (a budget that the call's worst case would pass);
//  - every sent call is reported to Health (in flight, success, failure, latency), which opens
//    and closes the breakers.
//
// Thread-safety: RunChain runs on one worker; Health is shared by all workers.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "catalog/catalog.h"
#include "config/config.h"
#include "core/result.h"
#include "core/usage.h"
#include "http/task.h"
#include "http/timer.h"
#include "routing/deployments.h"
#include "routing/health.h"

namespace sy::failover {

using routing::Health;
using routing::SteadyTime;

// The single place that decides whether another try (another deployment, another model) may
// succeed where one failed.
bool IsRetryable(const core::Error& error);
// A retryable failure worth another try on the same deployment: a 429 without retry-after, a
// 5xx, a refused or reset connection. Not a timeout (it already took its time), not a rejection.
bool RetryInPlace(const core::Error& error);
// A failure that says the deployment is unhealthy (counts toward its breaker): 5xx, timeouts,
// connect errors, malformed answers, refused credentials. Not a 429, nor the request's own fault,
// nor a rejected answer (the upstream worked).
bool CountsAgainstHealth(const core::Error& error);
// Full-jitter exponential backoff before retry `retry` (1 for the first retry):
// uniform(0, min(max, base * 2^(retry-1))) drawn from `random`.
std::chrono::milliseconds Backoff(int retry, std::chrono::milliseconds base,
                                  std::chrono::milliseconds max, uint64_t random);

enum class Outcome {
  kOk,        // the model answered (and the answer passed verification, if any)
  kFailed,    // sent, and it failed (error says why)
  kSkipped,   // not sent (error says why: cooling down, circuit open, cannot express it, ...)
  kRejected,  // answered, but the answer failed verification (error and verdict say which check)
};

// "ok", "failed", "skipped", "rejected": the ledger's attempts.outcome.
std::string_view OutcomeName(Outcome outcome);

struct Attempt {
  Attempt() = default;
  Attempt(const config::ModelConfig* m, Outcome o, core::Error e = {})
      : model(m), outcome(o), error(std::move(e)) {}

  const config::ModelConfig* model = nullptr;
  const catalog::Deployment* deployment = nullptr;  // null when skipped before one was chosen
  Outcome outcome = Outcome::kFailed;
  core::Error error;  // when not kOk
  // The verification verdict: "" when no check ran, "passed", or "rejected: <check>: <why>";
  // "recorded: ..." prefixes a verdict that was only recorded (verify_mode record).
  std::string verdict;
  std::chrono::milliseconds latency{0};
  std::chrono::microseconds elapsed{0};  // the same, finer: the gateway's overhead excludes it
  // What the upstream billed for this attempt, when it said (or the gateway estimated it): set
  // for answers, and for failures after the request was delivered, unless the upstream answered
  // with an error status (an answer that could not be read or translated, a stream cut short, a
  // timeout, an answer that failed verification). Priced by app's account stage into `cost`,
  // under the deployment's price.
  std::optional<core::Usage> usage;
  std::optional<catalog::CostBreakdown> cost;
  // The size of the request body sent upstream for this attempt (its JSON text as posted: the
  // client's body, or its translation, with a Responses conversation expanded); 0 when none was
  // sent. The prompt of an estimated usage (app::EstimateUsage): the provider bills what it was
  // sent, which may be far more than what the client sent the gateway.
  size_t request_bytes = 0;
  // Whether the whole request reached the upstream (http::ClientRequest::delivered). An attempt
  // that failed after that, other than by an error status, may have been billed.
  bool delivered = false;

  bool sent() const { return outcome != Outcome::kSkipped; }
};

// One model of the chain with the deployments it may be served from (those routing kept).
struct Step {
  const config::ModelConfig* model = nullptr;
  std::vector<const catalog::Deployment*> deployments;  // config order; none: skipped
  routing::Strategy strategy = routing::Strategy::kWeighted;
};

struct ChainOptions {
  SteadyTime deadline;
  int max_attempts = 4;
  std::chrono::milliseconds max_retry_after{30'000};
  int retries_per_deployment = 0;
  std::chrono::milliseconds backoff_base{100};
  std::chrono::milliseconds backoff_max{2'000};
  std::function<bool()> stopped;  // optional: true once no further attempt may start
  // Optional: asked when the chain reaches a deployment, before anything else. An error skips
  // the deployment, recorded as kSkipped with that error: the request uses something its API
  // cannot express. It lets the caller translate the request for a dialect only when a
  // deployment speaking it is reached, not for every fallback the chain never gets to.
  std::function<core::Status(const catalog::Deployment&)> prepare;
  // Optional: asked before each call is sent (budget_check estimate reserves the call's worst
  // case here). An error ends the chain with that error; nothing is sent or recorded for it.
  std::function<core::Status(const catalog::Deployment&)> admit;
  std::function<uint64_t()> random;  // optional: uniform 64-bit numbers (default: per thread)
};

// One try on one deployment. It may fill `attempt.usage` (also when it fails: what was billed)
// and `attempt.verdict`; it fails with kVerificationFailed when the answer failed its checks.
template <typename T>
using AttemptFn =
    std::function<http::Task<core::Result<T>>(const catalog::Deployment&, Attempt& attempt)>;

template <typename T>
struct ChainOutcome {
  core::Result<T> result;
  const config::ModelConfig* model = nullptr;  // the model that answered, when one did
  const catalog::Deployment* deployment = nullptr;
};

namespace detail {
// Decides what to do with a cooling deployment: wait for it (returns the wait) or skip it.
std::optional<std::chrono::milliseconds> WaitForCooldown(SteadyTime until, SteadyTime now,
                                                         bool last, const ChainOptions& options);
Attempt CoolingSkip(const catalog::Deployment& d, SteadyTime until, SteadyTime now);
Attempt OpenCircuitSkip(const catalog::Deployment& d, const Health& health);
Attempt UnpreparedSkip(const catalog::Deployment& d, core::Error why);
core::Error ExhaustedError(const std::vector<Attempt>& attempts, bool deadline_passed);
// Whether no deployment after order[j] of steps[i] (the rest of `order`, then every later step's)
// could be tried: none is left, or options.prepare refuses each (nothing is recorded here; the
// chain records a refusal when it reaches it).
bool NoneUsableAfter(const std::vector<Step>& steps, size_t i,
                     const std::vector<const catalog::Deployment*>& order, size_t j,
                     const ChainOptions& options);
bool MayStart(int sent, SteadyTime now, const ChainOptions& options);
uint64_t NextRandom(const ChainOptions& options);
// The step's deployments in the order to try them.
std::vector<const catalog::Deployment*> Ordered(const Step& step, const Health& health,
                                                uint64_t random);
// Tells Health how a sent call, started at `started`, ended at `ended`.
void Report(Health& health, const catalog::Deployment& d, const core::Status& result, bool probe,
            SteadyTime started, SteadyTime ended);

// The backoff before retry `retry` on the same deployment, never past the deadline.
std::chrono::milliseconds BackoffBefore(int retry, const ChainOptions& options);

// What the chain does after a failed call on a deployment.
enum class Next { kRetryHere, kNextDeployment, kNextModel, kStop };
Next AfterFailure(const core::Error& error, int retries_done, bool very_last,
                  const ChainOptions& options);
}  // namespace detail

template <typename T>
http::Task<ChainOutcome<T>> RunChain(const std::vector<Step>& steps, const ChainOptions& options,
                                     Health& health, std::vector<Attempt>& attempts,
                                     AttemptFn<T> attempt_fn) {
  using Clock = std::chrono::steady_clock;
  using detail::Next;
  int sent = 0;
  bool out_of_time = false;  // the deadline, max_attempts or `stopped`: no further attempt
  const size_t first_attempt = attempts.size();
  std::optional<core::Error> unprepared;  // the first refusal of options.prepare
  size_t unprepared_count = 0;
  for (size_t i = 0; i < steps.size() && !out_of_time; ++i) {
    const Step& step = steps[i];
    const auto order = detail::Ordered(step, health, detail::NextRandom(options));
    bool next_model = false;
    for (size_t j = 0; j < order.size() && !next_model && !out_of_time; ++j) {
      const catalog::Deployment& d = *order[j];
      if (options.prepare) {
        if (auto ready = options.prepare(d); !ready) {
          if (!unprepared) unprepared = ready.error();
          ++unprepared_count;
          attempts.push_back(detail::UnpreparedSkip(d, std::move(ready).error()));
          continue;
        }
      }
      // Asked only on a cooling deployment or after a failure: whether none after this one could
      // be tried (the last one is waited for, and retried after its retry-after).
      std::optional<bool> last_known;
      const auto very_last = [&] {
        if (!last_known) last_known = detail::NoneUsableAfter(steps, i, order, j, options);
        return *last_known;
      };
      for (int retries = 0;;) {
        auto now = Clock::now();
        if (auto until = health.CooldownUntil(d.slot, now);
            until && detail::MayStart(sent, now, options)) {
          auto wait = detail::WaitForCooldown(*until, now, very_last(), options);
          if (!wait) {
            attempts.push_back(detail::CoolingSkip(d, *until, now));
            break;
          }
          co_await http::SleepFor(*wait);
          now = Clock::now();
        }
        if (!detail::MayStart(sent, now, options)) {
          out_of_time = true;
          break;
        }
        if (options.admit) {
          if (auto admitted = options.admit(d); !admitted) {
            co_return ChainOutcome<T>{std::move(admitted).error(), nullptr, nullptr};
          }
        }
        const auto admission = health.Admit(d.slot, now);
        if (admission == routing::Admission::kReject) {
          attempts.push_back(detail::OpenCircuitSkip(d, health));
          break;
        }
        ++sent;
        health.Begin(d.slot);
        Attempt attempt(step.model, Outcome::kFailed);
        attempt.deployment = &d;
        auto result = co_await attempt_fn(d, attempt);
        const auto ended = Clock::now();
        attempt.latency = std::chrono::duration_cast<std::chrono::milliseconds>(ended - now);
        attempt.elapsed = std::chrono::duration_cast<std::chrono::microseconds>(ended - now);
        detail::Report(health, d, result ? core::Status{} : core::Status(result.error()),
                       admission == routing::Admission::kProbe, now, ended);
        if (result) {
          attempt.outcome = Outcome::kOk;
          attempts.push_back(std::move(attempt));
          co_return ChainOutcome<T>{std::move(result), step.model, &d};
        }
        core::Error error = std::move(result).error();
        attempt.error = error;
        if (error.code == core::Errc::kVerificationFailed) attempt.outcome = Outcome::kRejected;
        attempts.push_back(std::move(attempt));
        if (error.retry_after) health.NoteRetryAfter(d.slot, Clock::now(), *error.retry_after);
        const Next next = detail::AfterFailure(error, retries, very_last(), options);
        if (next == Next::kStop) co_return ChainOutcome<T>{std::move(error), nullptr, nullptr};
        next_model = next == Next::kNextModel;
        if (next != Next::kRetryHere) break;
        if (!error.retry_after) {
          ++retries;
          co_await http::SleepFor(detail::BackoffBefore(retries, options));
        }
      }
    }
  }
  // Every deployment reached refused the request itself: that refusal is the answer, not an
  // upstream failure.
  if (unprepared && unprepared_count == attempts.size() - first_attempt) {
    co_return ChainOutcome<T>{std::move(*unprepared), nullptr, nullptr};
  }
  co_return ChainOutcome<T>{detail::ExhaustedError(attempts, Clock::now() >= options.deadline),
                            nullptr, nullptr};
}

}  // namespace sy::failover
