// routing::Health: what the gateway has learnt about each deployment's upstream, shared by every
// worker thread of the process: retry-after cool-downs, a circuit breaker, a windowed error rate,
// the calls in flight and a latency EWMA. Routing reads it to order deployments and to explain a
// decision; the failover chain asks it before each call (Admit) and tells it after (Note*).
//
// Slots: one per deployment, fixed at construction, in the order of `keys` ("model/deployment").
// Every per-call method takes the slot index (IndexOf resolves a key once, off the hot path).
// REQUIRES: slot < size() for every method taking a slot.
//
// Circuit breaker (per slot):
//   closed    --(consecutive_failures in a row, or error rate > error_rate over >= min_requests
//               in the window)--> open until now + cool_off
//   open      --(Admit after cool_off: exactly one caller wins the probe)--> half_open
//   half_open --(probe succeeds)--> closed (failure streak and window cleared)
//   half_open --(probe fails)--> open with a fresh cool_off
//   half_open --(probe abandoned)--> open, already due: the next Admit probes
//   half_open --(Admit after probe_lease with no report)--> half_open, that caller the probe
// The lease covers a probe whose caller never reports (a bug, a coroutine destroyed at shutdown):
// without it the deployment stayed out of service until a restart. A probe that reports after
// its lease still moves the breaker (a success closes it).
// Only the probe's outcome moves a half-open breaker; outcomes of calls admitted before the breaker
// opened only feed the counters. Admit concerns the breaker only: retry-after cool-downs are read
// with CooldownUntil, separately, because the chain reports them differently (a skip with time
// left).
//
// A retry-after cool-down is capped at `max_cooldown`: an upstream's retry-after of three years
// must not take a deployment out until the next restart.
//
// Time is injected: every method takes `now` (steady clock), so the state machine is tested with
// made-up times. Times must be at or after the steady clock's epoch (true for real clocks).
//
// Thread-safety: every method may be called from any thread at any time and takes no lock. State
// and open-until live in one atomic word changed only by CAS, so each transition happens exactly
// once (one probe winner, one opening per streak). The counters are separate atomics, so a
// Snapshot is not one consistent instant, and the window error rate is approximate under races:
// a window bucket whose time has passed is reset by the thread that wins a CAS on its epoch, and an
// increment racing with that reset may be lost or land in the old bucket. Clearing the window when
// a breaker closes is likewise not atomic with concurrent counts. The EWMA is updated by CAS, so no
// sample is lost.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "config/config.h"
#include "core/string_hash.h"

namespace sy::routing {

using SteadyTime = std::chrono::steady_clock::time_point;

// health.breaker as configured (consecutive_failures 0 = off, error_rate 1 = off; window
// REQUIRES: positive).
using BreakerConfig = config::BreakerConfig;

enum class BreakerState : uint8_t { kClosed, kOpen, kHalfOpen };
// "closed", "open", "half_open".
std::string_view BreakerStateName(BreakerState state);

enum class Admission : uint8_t { kAllow, kProbe, kReject };

class Health {
 public:
  // One slot per deployment, in the order given; `keys` are "model/deployment" names for lookups
  // and listings (a repeated key resolves to its first slot). max_cooldown caps retry-after
  // cool-downs; probe_lease is the longest a probe may take before another caller may probe
  // (HealthFor: failover.total_deadline, which bounds every call).
  Health(std::vector<std::string> keys, BreakerConfig breaker,
         std::chrono::milliseconds max_cooldown, std::chrono::milliseconds probe_lease);
  ~Health();
  Health(Health&&) noexcept;
  Health& operator=(Health&&) noexcept;

  // The slot of `key`, if it has one. A hash lookup: resolve once, not per call.
  std::optional<size_t> IndexOf(std::string_view key) const;
  size_t size() const { return keys_.size(); }
  const std::string& key(size_t slot) const { return keys_[slot]; }

  // The upstream asked for `retry_after` at `now`: cool the slot down until then (capped at
  // now + max_cooldown); a longer cool-down already noted is kept.
  void NoteRetryAfter(size_t slot, SteadyTime now, std::chrono::milliseconds retry_after);
  // The end of the slot's cool-down when it is still cooling at `now`.
  std::optional<SteadyTime> CooldownUntil(size_t slot, SteadyTime now) const;

  // May a request be sent to the slot now? Closed: kAllow. Open before cool_off ends: kReject.
  // Open after cool_off: exactly one caller wins kProbe (CAS open->half_open), the others kReject
  // until the probe reports. Half-open: kReject for all but the probe, until its lease ends.
  Admission Admit(size_t slot, SteadyTime now);
  // Read-only view for routing/explain: true while open and not yet due a probe, or half-open with
  // a probe in flight within its lease. Never changes state.
  bool Blocked(size_t slot, SteadyTime now) const;
  // When the cool-off ends, if the breaker is open (also when that time has already passed and
  // the breaker waits for a caller to probe).
  std::optional<SteadyTime> OpenUntil(size_t slot) const;

  // Another replica's breaker for this deployment is open until `until` (shared/health_share.h):
  // a closed breaker here opens until then too (not counted in opened_total: this replica saw no
  // failure), an open one keeps the later end, and a half-open one is left to its probe.
  void NoteOpenElsewhere(size_t slot, SteadyTime until);

  // Every sent call: Begin before (in-flight + 1), then exactly one of the three after
  // (in-flight - 1); `probe` is true when Admit answered kProbe for this call. A success closes a
  // half-open breaker and resets the failure streak; a failure counts toward opening (and re-opens
  // a half-open breaker with a fresh cool-off); Abandoned (the request was cancelled, or failed for
  // a reason that says nothing about the upstream's health) only releases in-flight and, for a
  // probe, lets the next caller probe. Success and failure both feed the latency EWMA.
  void Begin(size_t slot);
  void NoteSuccess(size_t slot, SteadyTime now, std::chrono::microseconds latency, bool probe);
  void NoteFailure(size_t slot, SteadyTime now, std::chrono::microseconds latency, bool probe);
  void NoteAbandoned(size_t slot, SteadyTime now, bool probe);

  struct Snapshot {
    BreakerState state = BreakerState::kClosed;
    int consecutive_failures = 0;
    int64_t window_requests = 0;
    int64_t window_failures = 0;
    double error_rate = 0;  // window_failures / window_requests; 0 with no request
    int64_t in_flight = 0;
    double latency_ewma_ms = 0;  // 0 = no sample yet
    std::optional<SteadyTime> open_until;
    std::optional<SteadyTime> cooldown_until;
    int64_t opened_total = 0;  // times the breaker opened since start
  };
  // The slot's figures at `now`, for listings and routing (each field read on its own).
  Snapshot Read(size_t slot, SteadyTime now) const;

  const BreakerConfig& breaker() const { return breaker_; }
  std::chrono::milliseconds max_cooldown() const { return max_cooldown_; }

 private:
  struct Slot;
  struct WindowCounts {
    int64_t requests = 0;
    int64_t failures = 0;
  };

  void CountInWindow(Slot& slot, SteadyTime now, bool failed);
  WindowCounts WindowAt(const Slot& slot, SteadyTime now) const;
  bool ShouldOpen(const Slot& slot, SteadyTime now) const;
  void Open(Slot& slot, int64_t expected_word, SteadyTime now);
  static void UpdateEwma(Slot& slot, std::chrono::microseconds latency);

  std::vector<std::string> keys_;
  BreakerConfig breaker_;
  std::chrono::milliseconds max_cooldown_;
  std::chrono::milliseconds probe_lease_;
  int64_t bucket_ns_;  // window / kBuckets
  std::unique_ptr<Slot[]> slots_;
  std::unordered_map<std::string, size_t, core::StringHash, std::equal_to<>> index_;  // immutable
};

}  // namespace sy::routing
