#include "routing/health.h"

#include <algorithm>
#include <array>
#include <cmath>

namespace sy::routing {
namespace {

constexpr int64_t kBuckets = 10;    // the window's ring of time buckets
constexpr int64_t kNoSample = -1;   // latency EWMA before the first sample
constexpr double kEwmaAlpha = 0.2;  // weight of the newest latency sample

int64_t Nanos(SteadyTime t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

SteadyTime FromNanos(int64_t ns) {
  return SteadyTime(std::chrono::duration_cast<SteadyTime::duration>(std::chrono::nanoseconds(ns)));
}

// The breaker's state and its deadline (open: the end of its cool-off; half-open: the end of the
// probe's lease) share one atomic word, so that a transition and its deadline are published
// together by one CAS: word = until_ns * 4 + state.
int64_t Word(BreakerState state, int64_t until_ns) {
  return until_ns * 4 + static_cast<int64_t>(state);
}
BreakerState StateOf(int64_t word) { return static_cast<BreakerState>(word & 3); }
int64_t UntilOf(int64_t word) { return word >> 2; }

}  // namespace

struct alignas(64) Health::Slot {  // own cache lines: workers hit different deployments
  struct Bucket {
    std::atomic<int64_t> epoch{-1};  // now / bucket_ns of the time it counts; -1 = never used
    std::atomic<int64_t> requests{0};
    std::atomic<int64_t> failures{0};
  };
  std::atomic<int64_t> breaker{Word(BreakerState::kClosed, 0)};
  std::atomic<int32_t> streak{0};  // failures in a row
  std::atomic<int64_t> in_flight{0};
  std::atomic<int64_t> ewma_us{kNoSample};
  std::atomic<int64_t> opened_total{0};
  std::atomic<int64_t> cooldown_until_ns{0};  // 0 = not cooling
  std::array<Bucket, kBuckets> buckets;
};

std::string_view BreakerStateName(BreakerState state) {
  switch (state) {
    case BreakerState::kClosed:
      return "closed";
    case BreakerState::kOpen:
      return "open";
    case BreakerState::kHalfOpen:
      return "half_open";
  }
  return "closed";
}

Health::Health(std::vector<std::string> keys, BreakerConfig breaker,
               std::chrono::milliseconds max_cooldown, std::chrono::milliseconds probe_lease)
    : keys_(std::move(keys)),
      breaker_(breaker),
      max_cooldown_(max_cooldown),
      probe_lease_(probe_lease),
      bucket_ns_(std::max<int64_t>(
          1,
          std::chrono::duration_cast<std::chrono::nanoseconds>(breaker.window).count() / kBuckets)),
      slots_(std::make_unique<Slot[]>(keys_.size())) {
  for (size_t i = 0; i < keys_.size(); ++i) index_.emplace(keys_[i], i);
}

Health::~Health() = default;
Health::Health(Health&&) noexcept = default;
Health& Health::operator=(Health&&) noexcept = default;

std::optional<size_t> Health::IndexOf(std::string_view key) const {
  auto it = index_.find(key);
  if (it == index_.end()) return std::nullopt;
  return it->second;
}

void Health::NoteRetryAfter(size_t slot, SteadyTime now, std::chrono::milliseconds retry_after) {
  std::atomic<int64_t>& until_ns = slots_[slot].cooldown_until_ns;
  const int64_t until =
      Nanos(now + std::clamp(retry_after, std::chrono::milliseconds(0), max_cooldown_));
  int64_t seen = until_ns.load(std::memory_order_relaxed);
  while (seen < until && !until_ns.compare_exchange_weak(seen, until, std::memory_order_relaxed)) {
  }
}

std::optional<SteadyTime> Health::CooldownUntil(size_t slot, SteadyTime now) const {
  const int64_t until = slots_[slot].cooldown_until_ns.load(std::memory_order_relaxed);
  if (until <= Nanos(now)) return std::nullopt;
  return FromNanos(until);
}

Admission Health::Admit(size_t slot, SteadyTime now) {
  std::atomic<int64_t>& breaker = slots_[slot].breaker;
  int64_t word = breaker.load(std::memory_order_acquire);
  if (StateOf(word) == BreakerState::kClosed) return Admission::kAllow;
  // Open: until the cool-off ends. Half-open: until the probe's lease ends; a probe that never
  // reported by then (its caller never came back) is given up and another caller probes.
  if (Nanos(now) < UntilOf(word)) return Admission::kReject;
  // Of every caller that saw this word, one CAS succeeds: that caller is the probe.
  const int64_t half_open = Word(BreakerState::kHalfOpen, Nanos(now + probe_lease_));
  return breaker.compare_exchange_strong(word, half_open, std::memory_order_acq_rel)
             ? Admission::kProbe
             : Admission::kReject;
}

bool Health::Blocked(size_t slot, SteadyTime now) const {
  const int64_t word = slots_[slot].breaker.load(std::memory_order_acquire);
  return StateOf(word) != BreakerState::kClosed && Nanos(now) < UntilOf(word);
}

std::optional<SteadyTime> Health::OpenUntil(size_t slot) const {
  const int64_t word = slots_[slot].breaker.load(std::memory_order_acquire);
  if (StateOf(word) != BreakerState::kOpen) return std::nullopt;
  return FromNanos(UntilOf(word));
}

void Health::Begin(size_t slot) { slots_[slot].in_flight.fetch_add(1, std::memory_order_relaxed); }

void Health::NoteSuccess(size_t slot, SteadyTime now, std::chrono::microseconds latency,
                         bool probe) {
  Slot& s = slots_[slot];
  s.in_flight.fetch_sub(1, std::memory_order_relaxed);
  CountInWindow(s, now, /*failed=*/false);
  s.streak.store(0, std::memory_order_relaxed);
  UpdateEwma(s, latency);
  if (!probe) return;
  int64_t word = s.breaker.load(std::memory_order_acquire);
  if (StateOf(word) != BreakerState::kHalfOpen) return;
  if (!s.breaker.compare_exchange_strong(word, Word(BreakerState::kClosed, 0),
                                         std::memory_order_acq_rel)) {
    return;
  }
  // The failures that opened the breaker must not re-open it at the next failure.
  for (Slot::Bucket& b : s.buckets) {
    b.requests.store(0, std::memory_order_relaxed);
    b.failures.store(0, std::memory_order_relaxed);
  }
}

void Health::NoteFailure(size_t slot, SteadyTime now, std::chrono::microseconds latency,
                         bool probe) {
  Slot& s = slots_[slot];
  s.in_flight.fetch_sub(1, std::memory_order_relaxed);
  CountInWindow(s, now, /*failed=*/true);
  s.streak.fetch_add(1, std::memory_order_relaxed);
  UpdateEwma(s, latency);
  const int64_t word = s.breaker.load(std::memory_order_acquire);
  const BreakerState state = StateOf(word);
  if (probe ? state == BreakerState::kHalfOpen
            : state == BreakerState::kClosed && ShouldOpen(s, now)) {
    Open(s, word, now);
  }
}

void Health::NoteAbandoned(size_t slot, SteadyTime now, bool probe) {
  Slot& s = slots_[slot];
  s.in_flight.fetch_sub(1, std::memory_order_relaxed);
  if (!probe) return;
  int64_t word = s.breaker.load(std::memory_order_acquire);
  if (StateOf(word) != BreakerState::kHalfOpen) return;
  // Back to open with a cool-off that ends now: the next Admit wins a new probe.
  s.breaker.compare_exchange_strong(word, Word(BreakerState::kOpen, Nanos(now)),
                                    std::memory_order_acq_rel);
}

Health::Snapshot Health::Read(size_t slot, SteadyTime now) const {
  const Slot& s = slots_[slot];
  Snapshot out;
  out.state = StateOf(s.breaker.load(std::memory_order_acquire));
  out.consecutive_failures = s.streak.load(std::memory_order_relaxed);
  const WindowCounts window = WindowAt(s, now);
  out.window_requests = window.requests;
  out.window_failures = window.failures;
  out.error_rate = window.requests > 0
                       ? static_cast<double>(window.failures) / static_cast<double>(window.requests)
                       : 0.0;
  out.in_flight = s.in_flight.load(std::memory_order_relaxed);
  const int64_t ewma_us = s.ewma_us.load(std::memory_order_relaxed);
  out.latency_ewma_ms = ewma_us == kNoSample ? 0.0 : static_cast<double>(ewma_us) / 1000.0;
  out.open_until = OpenUntil(slot);
  out.cooldown_until = CooldownUntil(slot, now);
  out.opened_total = s.opened_total.load(std::memory_order_relaxed);
  return out;
}

void Health::CountInWindow(Slot& slot, SteadyTime now, bool failed) {
  const int64_t epoch = std::max<int64_t>(0, Nanos(now)) / bucket_ns_;
  Slot::Bucket& bucket = slot.buckets[static_cast<size_t>(epoch % kBuckets)];
  int64_t seen = bucket.epoch.load(std::memory_order_acquire);
  while (seen != epoch) {
    // The bucket already counts a time a whole window later: `now` is outside the window.
    if (seen > epoch) return;
    if (bucket.epoch.compare_exchange_weak(seen, epoch, std::memory_order_acq_rel)) {
      bucket.requests.store(0, std::memory_order_relaxed);
      bucket.failures.store(0, std::memory_order_relaxed);
      break;
    }
  }
  bucket.requests.fetch_add(1, std::memory_order_relaxed);
  if (failed) bucket.failures.fetch_add(1, std::memory_order_relaxed);
}

Health::WindowCounts Health::WindowAt(const Slot& slot, SteadyTime now) const {
  const int64_t epoch = std::max<int64_t>(0, Nanos(now)) / bucket_ns_;
  WindowCounts counts;
  for (const Slot::Bucket& bucket : slot.buckets) {
    const int64_t e = bucket.epoch.load(std::memory_order_acquire);
    if (e > epoch || e <= epoch - kBuckets) continue;  // unused, stale, or ahead of `now`
    counts.requests += bucket.requests.load(std::memory_order_relaxed);
    counts.failures += bucket.failures.load(std::memory_order_relaxed);
  }
  return counts;
}

bool Health::ShouldOpen(const Slot& slot, SteadyTime now) const {
  if (breaker_.consecutive_failures > 0 &&
      slot.streak.load(std::memory_order_relaxed) >= breaker_.consecutive_failures) {
    return true;
  }
  const WindowCounts window = WindowAt(slot, now);
  return window.requests > 0 && window.requests >= breaker_.min_requests &&
         static_cast<double>(window.failures) >
             breaker_.error_rate * static_cast<double>(window.requests);
}

void Health::NoteOpenElsewhere(size_t slot, SteadyTime until) {
  Slot& s = slots_[slot];
  const int64_t target = Nanos(until);
  int64_t word = s.breaker.load(std::memory_order_acquire);
  for (;;) {
    const BreakerState state = StateOf(word);
    if (state == BreakerState::kHalfOpen) return;
    if (state == BreakerState::kOpen && UntilOf(word) >= target) return;
    if (s.breaker.compare_exchange_weak(word, Word(BreakerState::kOpen, target),
                                        std::memory_order_acq_rel)) {
      return;
    }
  }
}

void Health::Open(Slot& slot, int64_t expected_word, SteadyTime now) {
  const int64_t open = Word(BreakerState::kOpen, Nanos(now + breaker_.cool_off));
  // Only the caller whose CAS moves the breaker counts the opening.
  if (slot.breaker.compare_exchange_strong(expected_word, open, std::memory_order_acq_rel)) {
    slot.opened_total.fetch_add(1, std::memory_order_relaxed);
  }
}

void Health::UpdateEwma(Slot& slot, std::chrono::microseconds latency) {
  const int64_t sample = std::max<int64_t>(0, latency.count());
  int64_t seen = slot.ewma_us.load(std::memory_order_relaxed);
  int64_t next = sample;
  do {
    next = seen == kNoSample
               ? sample
               : static_cast<int64_t>(std::llround((1.0 - kEwmaAlpha) * static_cast<double>(seen) +
                                                   kEwmaAlpha * static_cast<double>(sample)));
  } while (!slot.ewma_us.compare_exchange_weak(seen, next, std::memory_order_relaxed));
}

}  // namespace sy::routing
