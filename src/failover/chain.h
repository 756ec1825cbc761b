// failover::RunChain: walks an ordered list of candidate models until one answers, keeping
// every attempt's outcome.
//
// Rules (docs/routing.md has the long form):
//  - a candidate is tried; success ends the chain;
//  - a failure that IsRetryable moves to the next candidate, one that is not ends the chain;
//  - a retry-after from an upstream puts that model in cool-down until it passes; cooling
//    models are skipped (and logged as skipped) while other candidates remain;
//  - the last candidate is retried after its retry-after when that fits max_retry_after and
//    the deadline;
//  - no attempt starts after the deadline or beyond max_attempts.
//
// Thread-safety: Cooldowns is per worker thread (not thread-safe); RunChain runs on one worker.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <unordered_map>
#include <vector>

#include "config/config.h"
#include "core/result.h"
#include "http/task.h"
#include "http/timer.h"

namespace sy::failover {

using SteadyTime = std::chrono::steady_clock::time_point;

// The single place that decides whether another candidate may succeed where one failed.
bool IsRetryable(const core::Error& error);

struct Attempt {
  const config::ModelConfig* model = nullptr;
  bool ok = false;
  bool skipped = false;  // not sent: the model was cooling down after a retry-after
  core::Error error;     // when !ok
  std::chrono::milliseconds latency{0};
};

// Models in cool-down after an upstream's retry-after, as seen by one worker.
class Cooldowns {
 public:
  void Note(const std::string& model_id, SteadyTime until);
  // The end of the model's cool-down when it is still cooling at `now`.
  std::optional<SteadyTime> Until(const std::string& model_id, SteadyTime now) const;

 private:
  std::unordered_map<std::string, SteadyTime> until_;
};

struct ChainOptions {
  SteadyTime deadline;
  int max_attempts = 4;
  std::chrono::milliseconds max_retry_after{30'000};
};

template <typename T>
using AttemptFn = std::function<http::Task<core::Result<T>>(const config::ModelConfig&)>;

template <typename T>
struct ChainOutcome {
  core::Result<T> result;
  const config::ModelConfig* model = nullptr;  // the model that answered, when one did
};

namespace detail {
// Decides what to do with a cooling candidate: wait for it (returns the wait) or skip it.
std::optional<std::chrono::milliseconds> WaitForCooldown(SteadyTime until, SteadyTime now,
                                                         bool last, const ChainOptions& options);
core::Error ExhaustedError(const std::vector<Attempt>& attempts, bool deadline_passed);
}  // namespace detail

template <typename T>
http::Task<ChainOutcome<T>> RunChain(const std::vector<const config::ModelConfig*>& candidates,
                                     const ChainOptions& options, Cooldowns& cooldowns,
                                     std::vector<Attempt>& attempts, AttemptFn<T> attempt) {
  using Clock = std::chrono::steady_clock;
  int sent = 0;
  for (size_t i = 0; i < candidates.size(); ++i) {
    const auto& model = *candidates[i];
    const bool last = i + 1 == candidates.size();
    for (;;) {
      auto now = Clock::now();
      if (sent >= options.max_attempts || now >= options.deadline) break;
      if (auto until = cooldowns.Until(model.id, now)) {
        auto wait = detail::WaitForCooldown(*until, now, last, options);
        if (!wait) {
          Attempt skip{&model,
                       false,
                       true,
                       core::MakeError(core::Errc::kRateLimited,
                                       "skipped: cooling down after the "
                                       "upstream's retry-after"),
                       {}};
          attempts.push_back(std::move(skip));
          break;
        }
        co_await http::SleepFor(*wait);
        now = Clock::now();
      }
      ++sent;
      auto result = co_await attempt(model);
      auto latency = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - now);
      if (result) {
        attempts.push_back({&model, true, false, {}, latency});
        co_return ChainOutcome<T>{std::move(result), &model};
      }
      core::Error error = std::move(result).error();
      attempts.push_back({&model, false, false, error, latency});
      if (!IsRetryable(error)) co_return ChainOutcome<T>{std::move(error), nullptr};
      if (error.retry_after) cooldowns.Note(model.id, Clock::now() + *error.retry_after);
      if (!(last && error.retry_after)) break;  // retry in place only the last candidate
    }
  }
  co_return ChainOutcome<T>{detail::ExhaustedError(attempts, Clock::now() >= options.deadline),
                            nullptr};
}

}  // namespace sy::failover
