// shared::RedisLink: a RedisConnection that reconnects by itself, for the one thread that owns it.
// After a failure it stays down for a second (kRetryMs) so that a missing Redis costs nothing per
// call; the next call after that tries again. On every new connection it loads the scripts it was
// given (SCRIPT LOAD), so calls are EVALSHA from then on (a restarted Redis breaks the connection
// first, and the next one loads them again).
//
// up(), failures() and due() may be read from any thread; everything else belongs to the owning
// thread. It logs one line when Redis goes away (and the first failure) and one when it is back,
// naming it redis://host:port/db (never the password).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "core/error.h"
#include "shared/redis.h"

namespace sy::shared {

class RedisLink {
 public:
  static constexpr int64_t kRetryMs = 1'000;

  // `what` names the user in log lines ("shared counters", "shared health").
  RedisLink(RedisTarget target, std::chrono::milliseconds timeout, std::string what,
            std::vector<const RedisScript*> scripts);

  // The connection, connected now if it was not and a retry is due; nullptr when Redis is down.
  RedisConnection* Get();
  // A call on the connection failed (or answered what it should not): drop it, stay down for
  // kRetryMs.
  void Failed(const core::Error& error);
  // Closes the connection: for the owner's destructor, on its thread.
  void Close() { conn_ = RedisConnection(); }

  bool up() const { return up_.load(std::memory_order_relaxed); }
  // Up, or down with a retry due: whether a call is worth queueing.
  bool due() const;
  int64_t failures() const { return failures_.load(std::memory_order_relaxed); }
  const RedisTarget& target() const { return target_; }

 private:
  const RedisTarget target_;
  const std::chrono::milliseconds timeout_;
  const std::string what_;
  const std::vector<const RedisScript*> scripts_;
  RedisConnection conn_;
  std::atomic<bool> up_{false};
  std::atomic<int64_t> retry_at_ms_{0};  // steady ms; down until then
  std::atomic<int64_t> failures_{0};
};

}  // namespace sy::shared
