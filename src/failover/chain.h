// failover::RunChain: walks an ordered list of candidate models until one answers, keeping
// every attempt's outcome.
//
// Rules (docs/routing.md has the long form):
//  - a candidate is tried; success ends the chain;
//  - a failure that IsRetryable moves to the next candidate, one that is not ends the chain;
//  - a retry-after from an upstream cools that model down (Health, capped) until it passes;
//    cooling models are skipped (recorded as skipped, with the time left as retry_after) while
//    other candidates remain;
//  - the last candidate is retried after its retry-after when that fits max_retry_after and
//    the deadline;
//  - no attempt starts after the deadline, beyond max_attempts, or once `stopped` says so (the
//    client left, the gateway is shutting down).
//
// Thread-safety: RunChain runs on one worker; Health is shared by all workers.
#pragma once

#include <chrono>
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
#include "routing/health.h"

namespace sy::failover {

using routing::Health;
using routing::SteadyTime;

// The single place that decides whether another candidate may succeed where one failed.
bool IsRetryable(const core::Error& error);

enum class Outcome {
  kOk,       // the model answered
  kFailed,   // sent, and it failed (error says why)
  kSkipped,  // not sent (error says why: cooling down, cannot express the request, ...)
};

// "ok", "failed", "skipped": the ledger's attempts.outcome.
std::string_view OutcomeName(Outcome outcome);

struct Attempt {
  Attempt() = default;
  Attempt(const config::ModelConfig* m, Outcome o, core::Error e = {})
      : model(m), outcome(o), error(std::move(e)) {}

  const config::ModelConfig* model = nullptr;
  Outcome outcome = Outcome::kFailed;
  core::Error error;  // when not kOk
  std::chrono::milliseconds latency{0};
  // What the upstream billed for this attempt, when it said (or the gateway estimated it): set
  // for answers, and for failures after the upstream answered (an answer that could not be
  // translated, a stream cut short). Priced by app's account stage into `cost`.
  std::optional<core::Usage> usage;
  std::optional<catalog::CostBreakdown> cost;

  bool sent() const { return outcome != Outcome::kSkipped; }
};

struct ChainOptions {
  SteadyTime deadline;
  int max_attempts = 4;
  std::chrono::milliseconds max_retry_after{30'000};
  std::function<bool()> stopped;  // optional: true once no further attempt may start
};

// One try on one model. It may fill `attempt.usage` (also when it fails: what was billed).
template <typename T>
using AttemptFn =
    std::function<http::Task<core::Result<T>>(const config::ModelConfig&, Attempt& attempt)>;

template <typename T>
struct ChainOutcome {
  core::Result<T> result;
  const config::ModelConfig* model = nullptr;  // the model that answered, when one did
};

namespace detail {
// Decides what to do with a cooling candidate: wait for it (returns the wait) or skip it.
std::optional<std::chrono::milliseconds> WaitForCooldown(SteadyTime until, SteadyTime now,
                                                         bool last, const ChainOptions& options);
Attempt CoolingSkip(const config::ModelConfig& model, SteadyTime until, SteadyTime now);
core::Error ExhaustedError(const std::vector<Attempt>& attempts, bool deadline_passed);
bool MayStart(int sent, SteadyTime now, const ChainOptions& options);
}  // namespace detail

template <typename T>
http::Task<ChainOutcome<T>> RunChain(const std::vector<const config::ModelConfig*>& candidates,
                                     const ChainOptions& options, Health& health,
                                     std::vector<Attempt>& attempts, AttemptFn<T> attempt_fn) {
  using Clock = std::chrono::steady_clock;
  int sent = 0;
  for (size_t i = 0; i < candidates.size(); ++i) {
    const auto& model = *candidates[i];
    const bool last = i + 1 == candidates.size();
    const std::optional<size_t> slot = health.IndexOf(model.id);
    for (;;) {
      auto now = Clock::now();
      if (!detail::MayStart(sent, now, options)) break;
      if (auto until = slot ? health.CooldownUntil(*slot, now) : std::nullopt) {
        auto wait = detail::WaitForCooldown(*until, now, last, options);
        if (!wait) {
          attempts.push_back(detail::CoolingSkip(model, *until, now));
          break;
        }
        co_await http::SleepFor(*wait);
        now = Clock::now();
        if (!detail::MayStart(sent, now, options)) break;
      }
      ++sent;
      Attempt attempt(&model, Outcome::kFailed);
      auto result = co_await attempt_fn(model, attempt);
      attempt.latency = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - now);
      if (result) {
        attempt.outcome = Outcome::kOk;
        attempts.push_back(std::move(attempt));
        co_return ChainOutcome<T>{std::move(result), &model};
      }
      core::Error error = std::move(result).error();
      attempt.error = error;
      attempts.push_back(std::move(attempt));
      if (!IsRetryable(error)) co_return ChainOutcome<T>{std::move(error), nullptr};
      if (error.retry_after && slot) {
        health.NoteRetryAfter(*slot, Clock::now(), *error.retry_after);
      }
      if (!(last && error.retry_after)) break;  // retry in place only the last candidate
    }
  }
  co_return ChainOutcome<T>{detail::ExhaustedError(attempts, Clock::now() >= options.deadline),
                            nullptr};
}

}  // namespace sy::failover
