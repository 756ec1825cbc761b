// shared::HealthShare: what replicas learn about their upstreams, shared through Redis
// (shared_state.redis_url), so that a deployment that said "retry after 30 s" or whose breaker
// opened on one replica is left alone by every replica, not hit once more by each of them.
//
// Every sync_interval one thread compares this replica's routing::Health with what Redis holds
// for each deployment, in one pipelined round trip: a cool-down (retry-after) or an open breaker
// that ends later here than in Redis is written there (a Lua script keeps the later end, so
// replicas writing at once lose nothing); one that ends later in Redis than here is applied here
// (Health::NoteRetryAfter, Health::NoteOpenElsewhere). When a shared breaker's cool-off ends,
// each replica probes once on its own.
//
// Times cross replicas as wall-clock milliseconds (steady clocks are per host): replicas need
// synchronised clocks (NTP); an error of a few milliseconds only moves a cool-down's end.
// Redis keys: <prefix>health:<model>/<deployment>, a hash {open_until, cooldown_until}, expiring
// when both have passed.
//
// Best effort: while Redis is down each replica keeps its own health as without Redis (and logs
// it once, RedisLink); nothing waits on it, whatever shared_state.on_failure says.
// Thread-safety: the thread is internal; Health is lock-free. Lifetime: `health` must outlive
// this object (the destructor stops the thread).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "config/config.h"
#include "core/result.h"
#include "routing/health.h"
#include "shared/link.h"

namespace sy::shared {

class HealthShare {
 public:
  // Parses the URL (kInvalidRequest, nothing secret in it) and starts the thread.
  static core::Result<std::unique_ptr<HealthShare>> Start(const config::SharedStateConfig& config,
                                                          routing::Health& health);
  ~HealthShare();
  HealthShare(const HealthShare&) = delete;
  HealthShare& operator=(const HealthShare&) = delete;

  // One comparison with Redis now (the thread does it every sync_interval; tests call it).
  void SyncOnce();

 private:
  // What this replica last wrote or read for a deployment, wall-clock ms (0: nothing).
  struct Known {
    int64_t open_until = 0;
    int64_t cooldown_until = 0;
  };

  HealthShare(const config::SharedStateConfig& config, RedisTarget target, routing::Health& health);
  void Loop();

  routing::Health& health_;
  RedisLink link_;
  const std::chrono::milliseconds interval_;
  std::vector<std::string> keys_;  // the Redis key of each Health slot

  std::mutex sync_mu_;        // serialises SyncOnce (the thread's and a test's)
  std::vector<Known> known_;  // by slot; guarded by sync_mu_

  std::mutex mu_;  // guards stop_
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace sy::shared
