// routing::Health: what the gateway has learnt about each model's upstream, shared by every
// worker: today the cool-downs that upstreams asked for with retry-after (circuit breakers and
// latency figures join it later).
//
// A cool-down is capped at `max_cooldown`: an upstream's retry-after of three years must not take
// a model out until the next restart.
//
// Thread-safety: every method may be called from any thread at any time; reads and writes are
// single atomic operations on a per-model slot (no lock). The set of models is fixed at
// construction; a model that was not in it is never cooling.
#pragma once

#include <atomic>
#include <chrono>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace sy::routing {

using SteadyTime = std::chrono::steady_clock::time_point;

class Health {
 public:
  Health(const std::vector<std::string>& model_ids, std::chrono::milliseconds max_cooldown);

  // The upstream of `model_id` asked for `retry_after` at `now`: cool it down until then (capped
  // at now + max_cooldown); a longer cool-down already noted is kept.
  void NoteRetryAfter(std::string_view model_id, SteadyTime now,
                      std::chrono::milliseconds retry_after);
  // The end of the model's cool-down when it is still cooling at `now`.
  std::optional<SteadyTime> CooldownUntil(std::string_view model_id, SteadyTime now) const;

  std::chrono::milliseconds max_cooldown() const { return max_cooldown_; }

 private:
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
  };
  std::optional<size_t> IndexOf(std::string_view model_id) const;

  std::chrono::milliseconds max_cooldown_;
  // Steady-clock nanoseconds until which each model cools; 0 = not cooling. A deque, because
  // atomics cannot move and the slots are created once.
  std::deque<std::atomic<int64_t>> until_ns_;
  std::unordered_map<std::string, size_t, Hash, std::equal_to<>>
      index_;  // immutable after construction
};

}  // namespace sy::routing
