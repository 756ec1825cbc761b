// shared::HealthShare against a real redis-server: two Health objects stand for two replicas.
#include <atomic>
#include <chrono>
#include <string>

#include <gtest/gtest.h>

#include "shared/health_share.h"
#include "tests/testutil/redis_server.h"

namespace sy::shared {
namespace {

using namespace std::chrono_literals;

routing::BreakerConfig Breaker() {
  routing::BreakerConfig b;
  b.consecutive_failures = 2;
  b.cool_off = 30s;
  return b;
}

config::SharedStateConfig Config() {
  static std::atomic<int> n{0};
  config::SharedStateConfig c;
  c.redis_url = testutil::SharedRedisServer().url();
  c.key_prefix = "h" + std::to_string(n++) + ":";
  c.sync_interval = 1h;  // the tests call SyncOnce themselves
  c.timeout = 500ms;
  return c;
}

// Milliseconds from `from` to `to`, as a double for EXPECT_NEAR.
double Ms(std::chrono::steady_clock::time_point from, std::chrono::steady_clock::time_point to) {
  return static_cast<double>(
      std::chrono::duration_cast<std::chrono::milliseconds>(to - from).count());
}

struct Replica {
  routing::Health health{{"m/a", "m/b"}, Breaker(), 60s, 120s};
  std::unique_ptr<HealthShare> share;
  explicit Replica(const config::SharedStateConfig& c) { share = *HealthShare::Start(c, health); }
};

TEST(HealthShareTest, ARetryAfterOnOneReplicaCoolsTheOtherDown) {
  const auto config = Config();
  Replica a(config);
  Replica b(config);
  const auto now = std::chrono::steady_clock::now();
  a.health.NoteRetryAfter(0, now, 20s);
  a.share->SyncOnce();
  b.share->SyncOnce();
  const auto until = b.health.CooldownUntil(0, std::chrono::steady_clock::now());
  ASSERT_TRUE(until.has_value());
  EXPECT_NEAR(Ms(now, *until), 20'000, 100);
  EXPECT_FALSE(b.health.CooldownUntil(1, now).has_value());  // only that deployment
  // b writes nothing back (it learnt it from Redis), and a sees nothing new.
  b.share->SyncOnce();
  a.share->SyncOnce();
  EXPECT_NEAR(Ms(now, *a.health.CooldownUntil(0, now)), 20'000, 5);
}

TEST(HealthShareTest, ABreakerOpenedOnOneReplicaIsOpenOnTheOther) {
  const auto config = Config();
  Replica a(config);
  Replica b(config);
  const auto now = std::chrono::steady_clock::now();
  for (int i = 0; i < 2; ++i) {
    a.health.Begin(1);
    a.health.NoteFailure(1, now, 1ms, false);
  }
  ASSERT_EQ(a.health.Read(1, now).state, routing::BreakerState::kOpen);
  a.share->SyncOnce();
  b.share->SyncOnce();
  EXPECT_EQ(b.health.Read(1, now).state, routing::BreakerState::kOpen);
  EXPECT_TRUE(b.health.Blocked(1, now + 29s));
  EXPECT_EQ(b.health.Read(0, now).state, routing::BreakerState::kClosed);
  // The hash holds the later end; it expires once both ends have passed.
  auto ttl = testutil::SharedRedisServer().Command({"PTTL", config.key_prefix + "health:m/b"});
  ASSERT_TRUE(ttl.has_value());
  EXPECT_GT(std::stoll(*ttl), 29'000);
}

// A breaker's end no replica could have written (a corrupt or hostile key) opens it for the
// configured cool-off at most: not for years, and without overflowing the clock.
TEST(HealthShareTest, AnOpeningFarInTheFutureIsHeldToTheCoolOff) {
  const auto config = Config();
  Replica b(config);
  ASSERT_TRUE(testutil::SharedRedisServer()
                  .Command({"HSET", config.key_prefix + "health:m/a", "open_until",
                            "9223372036854775807", "cooldown_until", "0"})
                  .has_value());
  const auto now = std::chrono::steady_clock::now();
  b.share->SyncOnce();
  ASSERT_EQ(b.health.Read(0, now).state, routing::BreakerState::kOpen);
  const auto until = b.health.OpenUntil(0);
  ASSERT_TRUE(until.has_value());
  EXPECT_LE(Ms(now, *until), 30'000 + 100);
  EXPECT_FALSE(b.health.Blocked(0, now + 31s));
}

TEST(HealthShareTest, WithRedisGoneEachReplicaKeepsItsOwnHealth) {
  auto server = testutil::RedisServer::Start();
  ASSERT_TRUE(server.has_value());
  auto config = Config();
  config.redis_url = (*server)->url();
  Replica a(config);
  ASSERT_TRUE((*server)->Stop());
  const auto now = std::chrono::steady_clock::now();
  a.health.NoteRetryAfter(0, now, 5s);
  a.share->SyncOnce();  // fails quietly
  EXPECT_TRUE(a.health.CooldownUntil(0, now).has_value());
}

}  // namespace
}  // namespace sy::shared
