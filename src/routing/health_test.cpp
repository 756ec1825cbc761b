// routing::Health: the breaker's state machine driven with made-up times, the window error rate,
// retry-after cool-downs, in-flight balance and the latency EWMA; one test races real threads
// for the half-open probe.
#include "routing/health.h"

#include <atomic>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace sy::routing {
namespace {

using namespace std::chrono_literals;
using std::chrono::microseconds;

const SteadyTime kT0 = SteadyTime{} + 1000h;

BreakerConfig Breaker(int consecutive, double rate = 1.0, int min_requests = 0) {
  BreakerConfig c;
  c.consecutive_failures = consecutive;
  c.error_rate = rate;
  c.min_requests = min_requests;
  c.window = 10s;
  c.cool_off = 5s;
  return c;
}

// One call start to finish: Begin, then the outcome.
void Fail(Health& h, size_t slot, SteadyTime now, bool probe = false) {
  h.Begin(slot);
  h.NoteFailure(slot, now, 1ms, probe);
}
void Succeed(Health& h, size_t slot, SteadyTime now, bool probe = false) {
  h.Begin(slot);
  h.NoteSuccess(slot, now, 1ms, probe);
}

// Opens slot 0 of `h` (consecutive_failures = 3) at kT0.
void OpenAtT0(Health& h) {
  for (int i = 0; i < 3; ++i) Fail(h, 0, kT0);
  ASSERT_EQ(h.Read(0, kT0).state, BreakerState::kOpen);
}

TEST(HealthTest, KeysAreSlotsInOrder) {
  Health h({"gpt/east", "gpt/west", "claude/main"}, BreakerConfig{}, 60s, 120s);
  EXPECT_EQ(h.size(), 3u);
  EXPECT_EQ(h.key(1), "gpt/west");
  EXPECT_EQ(h.IndexOf("claude/main"), 2u);
  EXPECT_FALSE(h.IndexOf("claude").has_value());
  EXPECT_EQ(h.breaker().consecutive_failures, 5);  // the defaults
  EXPECT_EQ(h.max_cooldown(), 60s);
}

TEST(HealthTest, StateNames) {
  EXPECT_EQ(BreakerStateName(BreakerState::kClosed), "closed");
  EXPECT_EQ(BreakerStateName(BreakerState::kOpen), "open");
  EXPECT_EQ(BreakerStateName(BreakerState::kHalfOpen), "half_open");
}

TEST(HealthTest, OpensOnConsecutiveFailures) {
  struct Case {
    const char* name;
    int threshold;
    std::vector<bool> outcomes;  // true = failure, in order
    BreakerState want;
  };
  const Case cases[] = {
      {"three in a row", 3, {true, true, true}, BreakerState::kOpen},
      {"two are not enough", 3, {true, true}, BreakerState::kClosed},
      {"a success breaks the streak", 3, {true, true, false, true, true}, BreakerState::kClosed},
      {"streak after a success", 3, {true, false, true, true, true}, BreakerState::kOpen},
      {"0 turns it off", 0, {true, true, true, true, true, true}, BreakerState::kClosed},
  };
  for (const Case& c : cases) {
    Health h({"m/d"}, Breaker(c.threshold), 60s, 120s);
    for (bool failed : c.outcomes) failed ? Fail(h, 0, kT0) : Succeed(h, 0, kT0);
    const Health::Snapshot s = h.Read(0, kT0);
    EXPECT_EQ(s.state, c.want) << c.name;
    EXPECT_EQ(s.opened_total, c.want == BreakerState::kOpen ? 1 : 0) << c.name;
  }
}

TEST(HealthTest, OpensOnErrorRateOnlyPastMinRequests) {
  struct Case {
    const char* name;
    int successes;
    int failures;  // after the successes
    BreakerState want;
  };
  // error_rate 0.5 over at least 10 requests; the streak rule is off.
  const Case cases[] = {
      {"9 failures: below min_requests", 0, 9, BreakerState::kClosed},
      {"10 failures", 0, 10, BreakerState::kOpen},
      {"5 of 10: not above the rate", 5, 5, BreakerState::kClosed},
      {"6 of 11", 5, 6, BreakerState::kOpen},
      {"6 of 12: the rate, not above it", 6, 6, BreakerState::kClosed},
  };
  for (const Case& c : cases) {
    Health h({"m/d"}, Breaker(0, 0.5, 10), 60s, 120s);
    for (int i = 0; i < c.successes; ++i) Succeed(h, 0, kT0);
    for (int i = 0; i < c.failures; ++i) Fail(h, 0, kT0);
    const Health::Snapshot s = h.Read(0, kT0);
    EXPECT_EQ(s.state, c.want) << c.name;
    EXPECT_EQ(s.window_requests, c.successes + c.failures) << c.name;
    EXPECT_EQ(s.window_failures, c.failures) << c.name;
  }
}

TEST(HealthTest, SnapshotErrorRate) {
  Health h({"m/d"}, Breaker(0), 60s, 120s);
  EXPECT_EQ(h.Read(0, kT0).error_rate, 0.0);  // no request yet
  Succeed(h, 0, kT0);
  Succeed(h, 0, kT0);
  Succeed(h, 0, kT0);
  Fail(h, 0, kT0);
  EXPECT_DOUBLE_EQ(h.Read(0, kT0).error_rate, 0.25);
}

TEST(HealthTest, AdmitFollowsTheBreaker) {
  Health h({"m/d"}, Breaker(3), 60s, 120s);
  EXPECT_EQ(h.Admit(0, kT0), Admission::kAllow);
  EXPECT_FALSE(h.Blocked(0, kT0));
  EXPECT_FALSE(h.OpenUntil(0).has_value());
  OpenAtT0(h);
  EXPECT_EQ(h.OpenUntil(0), kT0 + 5s);
  EXPECT_EQ(h.Read(0, kT0).open_until, kT0 + 5s);
  struct Case {
    std::chrono::milliseconds after;
    bool blocked;
  };
  for (const Case& c : {Case{0ms, true}, Case{4999ms, true}, Case{5000ms, false}}) {
    EXPECT_EQ(h.Blocked(0, kT0 + c.after), c.blocked) << c.after.count();
  }
  EXPECT_EQ(h.Admit(0, kT0 + 4999ms), Admission::kReject);
  EXPECT_EQ(h.Read(0, kT0 + 4999ms).state, BreakerState::kOpen);  // Admit rejected, no change
}

TEST(HealthTest, AnOpeningElsewhereOpensAClosedBreakerUntilThen) {
  Health h({"m/d", "m/e"}, Breaker(3), 60s, 120s);
  h.NoteOpenElsewhere(0, kT0 + 7s);
  EXPECT_EQ(h.Read(0, kT0).state, BreakerState::kOpen);
  EXPECT_EQ(h.OpenUntil(0), kT0 + 7s);
  EXPECT_EQ(h.Read(0, kT0).opened_total, 0);  // not an opening this replica saw
  EXPECT_EQ(h.Admit(0, kT0 + 6999ms), Admission::kReject);
  EXPECT_EQ(h.Read(1, kT0).state, BreakerState::kClosed);
  // An earlier end changes nothing; a later one extends.
  h.NoteOpenElsewhere(0, kT0 + 3s);
  EXPECT_EQ(h.OpenUntil(0), kT0 + 7s);
  h.NoteOpenElsewhere(0, kT0 + 9s);
  EXPECT_EQ(h.OpenUntil(0), kT0 + 9s);
  // Then one probe, as for an opening of its own.
  EXPECT_EQ(h.Admit(0, kT0 + 9s), Admission::kProbe);
  // A probe in flight is not overridden.
  h.NoteOpenElsewhere(0, kT0 + 20s);
  EXPECT_EQ(h.Read(0, kT0 + 9s).state, BreakerState::kHalfOpen);
  Succeed(h, 0, kT0 + 9s, /*probe=*/true);
  EXPECT_EQ(h.Read(0, kT0 + 9s).state, BreakerState::kClosed);
}

TEST(HealthTest, ExactlyOneProbeAfterTheCoolOff) {
  Health h({"m/d"}, Breaker(3), 60s, 120s);
  OpenAtT0(h);
  EXPECT_EQ(h.Admit(0, kT0 + 5s), Admission::kProbe);
  EXPECT_EQ(h.Read(0, kT0 + 5s).state, BreakerState::kHalfOpen);
  EXPECT_FALSE(h.OpenUntil(0).has_value());
  EXPECT_TRUE(h.Blocked(0, kT0 + 5s));  // the probe is in flight
  EXPECT_EQ(h.Admit(0, kT0 + 5s), Admission::kReject);
  EXPECT_EQ(h.Admit(0, kT0 + 60s), Admission::kReject);
}

TEST(HealthTest, ExactlyOneProbeUnderThreads) {
  for (int round = 0; round < 20; ++round) {
    Health h({"m/d"}, Breaker(3), 60s, 120s);
    OpenAtT0(h);
    std::atomic<int> probes{0};
    std::atomic<int> rejects{0};
    std::atomic<bool> go{false};
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t) {
      threads.emplace_back([&] {
        while (!go.load()) {
        }
        for (int i = 0; i < 100; ++i) {
          const Admission a = h.Admit(0, kT0 + 6s);
          (a == Admission::kProbe ? probes : rejects).fetch_add(1);
        }
      });
    }
    go.store(true);
    for (std::thread& t : threads) t.join();
    EXPECT_EQ(probes.load(), 1) << "round " << round;
    EXPECT_EQ(rejects.load(), 799) << "round " << round;
  }
}

TEST(HealthTest, ProbeSuccessCloses) {
  Health h({"m/d"}, Breaker(3), 60s, 120s);
  OpenAtT0(h);
  ASSERT_EQ(h.Admit(0, kT0 + 5s), Admission::kProbe);
  Succeed(h, 0, kT0 + 5s, /*probe=*/true);
  const Health::Snapshot s = h.Read(0, kT0 + 5s);
  EXPECT_EQ(s.state, BreakerState::kClosed);
  EXPECT_EQ(s.consecutive_failures, 0);
  EXPECT_EQ(s.window_requests, 0);  // the failures that opened it are forgotten
  EXPECT_EQ(h.Admit(0, kT0 + 5s), Admission::kAllow);
  // A fresh streak is needed to open again.
  Fail(h, 0, kT0 + 6s);
  Fail(h, 0, kT0 + 6s);
  EXPECT_EQ(h.Read(0, kT0 + 6s).state, BreakerState::kClosed);
}

TEST(HealthTest, ProbeFailureReopensWithAFreshCoolOff) {
  Health h({"m/d"}, Breaker(3), 60s, 120s);
  OpenAtT0(h);
  ASSERT_EQ(h.Admit(0, kT0 + 7s), Admission::kProbe);
  Fail(h, 0, kT0 + 8s, /*probe=*/true);
  const Health::Snapshot s = h.Read(0, kT0 + 8s);
  EXPECT_EQ(s.state, BreakerState::kOpen);
  EXPECT_EQ(s.open_until, kT0 + 13s);
  EXPECT_EQ(s.opened_total, 2);
  EXPECT_EQ(h.Admit(0, kT0 + 12s), Admission::kReject);
  EXPECT_EQ(h.Admit(0, kT0 + 13s), Admission::kProbe);
}

TEST(HealthTest, OnlyTheProbeMovesAHalfOpenBreaker) {
  Health h({"m/d"}, Breaker(3), 60s, 120s);
  OpenAtT0(h);
  ASSERT_EQ(h.Admit(0, kT0 + 5s), Admission::kProbe);
  // Calls admitted before the breaker opened finish now: they count, but move nothing.
  Succeed(h, 0, kT0 + 5s);
  Fail(h, 0, kT0 + 5s);
  EXPECT_EQ(h.Read(0, kT0 + 5s).state, BreakerState::kHalfOpen);
  EXPECT_EQ(h.Read(0, kT0 + 5s).opened_total, 1);
}

TEST(HealthTest, AbandonedProbeLetsTheNextCallerProbe) {
  Health h({"m/d"}, Breaker(3), 60s, 120s);
  OpenAtT0(h);
  ASSERT_EQ(h.Admit(0, kT0 + 5s), Admission::kProbe);
  h.Begin(0);
  h.NoteAbandoned(0, kT0 + 6s, /*probe=*/true);
  const Health::Snapshot s = h.Read(0, kT0 + 6s);
  EXPECT_EQ(s.state, BreakerState::kOpen);
  EXPECT_EQ(s.opened_total, 1);  // not a new opening
  EXPECT_EQ(s.window_requests, 3);
  EXPECT_FALSE(h.Blocked(0, kT0 + 6s));
  EXPECT_EQ(h.Admit(0, kT0 + 6s), Admission::kProbe);
  EXPECT_EQ(h.Admit(0, kT0 + 6s), Admission::kReject);
}

// A probe whose caller never reports (the coroutine was destroyed, or a bug skipped the report)
// must not keep the deployment out of service for good: after the lease another caller probes.
TEST(HealthTest, AProbeThatNeverReportsIsTakenOverAfterItsLease) {
  Health h({"m/d"}, Breaker(3), 60s, /*probe_lease=*/10s);
  OpenAtT0(h);  // cool-off 5 s
  ASSERT_EQ(h.Admit(0, kT0 + 5s), Admission::kProbe);
  EXPECT_TRUE(h.Blocked(0, kT0 + 14999ms));
  EXPECT_EQ(h.Admit(0, kT0 + 14999ms), Admission::kReject);
  EXPECT_FALSE(h.Blocked(0, kT0 + 15s));
  EXPECT_EQ(h.Admit(0, kT0 + 15s), Admission::kProbe);
  EXPECT_EQ(h.Admit(0, kT0 + 15s), Admission::kReject) << "one caller takes the probe over";
  EXPECT_EQ(h.Read(0, kT0 + 15s).state, BreakerState::kHalfOpen);
  EXPECT_TRUE(h.Blocked(0, kT0 + 24999ms)) << "the new probe has a lease of its own";
  // The first probe reports at last: a success is still evidence, and closes the breaker.
  Succeed(h, 0, kT0 + 16s, /*probe=*/true);
  EXPECT_EQ(h.Read(0, kT0 + 16s).state, BreakerState::kClosed);
  EXPECT_EQ(h.Read(0, kT0 + 16s).opened_total, 1);
}

TEST(HealthTest, AbandonedCallsDoNotCount) {
  Health h({"m/d"}, Breaker(3), 60s, 120s);
  Fail(h, 0, kT0);
  Fail(h, 0, kT0);
  h.Begin(0);
  h.NoteAbandoned(0, kT0, /*probe=*/false);
  const Health::Snapshot s = h.Read(0, kT0);
  EXPECT_EQ(s.consecutive_failures, 2);
  EXPECT_EQ(s.window_requests, 2);
  EXPECT_EQ(s.in_flight, 0);
}

TEST(HealthTest, WindowExpiryForgetsOldFailures) {
  // window 10 s in buckets of 1 s: a request counts for between 9 and 10 s.
  Health h({"m/d"}, Breaker(0, 0.5, 4), 60s, 120s);
  Fail(h, 0, kT0);
  Fail(h, 0, kT0);
  Fail(h, 0, kT0 + 1s);
  struct Case {
    std::chrono::milliseconds at;
    int64_t failures;
  };
  const Case cases[] = {{0ms, 2}, {1s, 3}, {9999ms, 3}, {10s, 1}, {10999ms, 1}, {11s, 0}};
  for (const Case& c : cases) {
    EXPECT_EQ(h.Read(0, kT0 + c.at).window_failures, c.failures) << c.at.count();
  }
  // The fourth failure at +10 s finds only one other in the window: below min_requests.
  Fail(h, 0, kT0 + 10s);
  EXPECT_EQ(h.Read(0, kT0 + 10s).state, BreakerState::kClosed);
  EXPECT_EQ(h.Read(0, kT0 + 10s).window_requests, 2);
}

TEST(HealthTest, ALateReportFromAnEarlierWindowIsDropped) {
  Health h({"m/d"}, Breaker(0), 60s, 120s);
  Fail(h, 0, kT0 + 20s);
  Fail(h, 0, kT0 + 10s);  // the same bucket of the ring, one window earlier
  EXPECT_EQ(h.Read(0, kT0 + 20s).window_requests, 1);
}

TEST(HealthTest, RetryAfterIsCappedAndKeepsTheLonger) {
  Health h({"a/1", "b/1"}, BreakerConfig{}, 60s, 120s);
  struct Case {
    const char* name;
    std::vector<std::chrono::milliseconds> notes;
    std::optional<std::chrono::milliseconds> want;
  };
  const Case cases[] = {
      {"none", {}, std::nullopt},
      {"plain", {30s}, 30s},
      {"three years: the cap", {std::chrono::hours(24 * 365 * 3)}, 60s},
      {"negative: none", {-5s}, std::nullopt},
      {"longer kept", {30s, 1s}, 30s},
      {"longer wins", {1s, 30s}, 30s},
  };
  for (const Case& c : cases) {
    Health fresh({"a/1"}, BreakerConfig{}, 60s, 120s);
    for (auto n : c.notes) fresh.NoteRetryAfter(0, kT0, n);
    const auto until = fresh.CooldownUntil(0, kT0);
    ASSERT_EQ(until.has_value(), c.want.has_value()) << c.name;
    if (until) {
      EXPECT_EQ(*until - kT0, *c.want) << c.name;
    }
  }
  h.NoteRetryAfter(0, kT0, 30s);
  EXPECT_FALSE(h.CooldownUntil(1, kT0).has_value());  // per slot
  EXPECT_FALSE(h.CooldownUntil(0, kT0 + 30s).has_value());
  EXPECT_EQ(h.Read(0, kT0 + 29s).cooldown_until, kT0 + 30s);
  EXPECT_EQ(h.Read(0, kT0).state, BreakerState::kClosed);  // cool-downs are not the breaker
}

TEST(HealthTest, InFlightBalances) {
  Health h({"m/d", "n/d"}, Breaker(3), 60s, 120s);
  for (int i = 0; i < 4; ++i) h.Begin(0);
  h.Begin(1);
  EXPECT_EQ(h.Read(0, kT0).in_flight, 4);
  EXPECT_EQ(h.Read(1, kT0).in_flight, 1);
  h.NoteSuccess(0, kT0, 1ms, false);
  h.NoteFailure(0, kT0, 1ms, false);
  h.NoteAbandoned(0, kT0, false);
  EXPECT_EQ(h.Read(0, kT0).in_flight, 1);
  h.NoteSuccess(0, kT0, 1ms, false);
  EXPECT_EQ(h.Read(0, kT0).in_flight, 0);
}

TEST(HealthTest, InFlightBalancesUnderThreads) {
  Health h({"m/d"}, Breaker(0), 60s, 120s);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&h, t] {
      for (int i = 0; i < 1000; ++i) {
        h.Begin(0);
        if (t % 2 == 0) {
          h.NoteSuccess(0, kT0, microseconds(1000), false);
        } else {
          h.NoteAbandoned(0, kT0, false);
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  const Health::Snapshot s = h.Read(0, kT0);
  EXPECT_EQ(s.in_flight, 0);
  EXPECT_EQ(s.latency_ewma_ms, 1.0);  // every sample was 1 ms
}

TEST(HealthTest, LatencyEwma) {
  struct Case {
    const char* name;
    std::vector<int64_t> samples_us;
    double want_ms;
  };
  const Case cases[] = {
      {"no sample", {}, 0.0},
      {"first sample sets it", {1000}, 1.0},
      {"alpha 0.2", {1000, 2000}, 1.2},                   // 0.8 * 1000 + 0.2 * 2000
      {"then a fast one", {1000, 2000, 0}, 0.96},         // 0.8 * 1200
      {"rounded to a microsecond", {1000, 1003}, 1.001},  // 1000.6 -> 1001
      {"steady", {500, 500, 500}, 0.5},
  };
  for (const Case& c : cases) {
    Health h({"m/d"}, Breaker(0), 60s, 120s);
    for (size_t i = 0; i < c.samples_us.size(); ++i) {
      h.Begin(0);
      // Failures feed the EWMA as well as successes.
      if (i % 2 == 0) {
        h.NoteSuccess(0, kT0, microseconds(c.samples_us[i]), false);
      } else {
        h.NoteFailure(0, kT0, microseconds(c.samples_us[i]), false);
      }
    }
    EXPECT_DOUBLE_EQ(h.Read(0, kT0).latency_ewma_ms, c.want_ms) << c.name;
  }
}

TEST(HealthTest, SlotsAreIndependent) {
  Health h({"m/a", "m/b"}, Breaker(3), 60s, 120s);
  OpenAtT0(h);
  EXPECT_EQ(h.Admit(1, kT0), Admission::kAllow);
  EXPECT_EQ(h.Read(1, kT0).window_requests, 0);
}

}  // namespace
}  // namespace sy::routing
