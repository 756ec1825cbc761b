// shared::Counters: the budgets and rate limits of client keys and tenants, counted together by
// every replica in Redis (shared_state.redis_url). The decisions are limits/shared_limiter.h's;
// this class does the I/O.
//
// Request path. Admission takes from this replica's allowances (limits/allowance.h) without any
// I/O; only a request its allowances do not cover waits for one Redis round trip, on the Redis
// thread, while its worker serves other connections. The error bound this implies is stated in
// limits/allowance.h.
//
// The Redis thread. One thread (a BlockingPool of one) owns the connection and runs every Redis
// call, in order: the leases requests wait for, and every sync_interval a report of the spend and
// token debts settled since the last one, which also renews the holds of active accounts. A
// report sends its calls in pipelined round trips of at most 512, each a job of its own queued
// behind whatever waits, so that a lease waits for one round trip of a report, not for all of
// them (a replica with thousands of active keys sends several). The destructor reports a last
// time and gives every hold back.
//
// Redis down (a call failed or timed out): the connection is dropped and tried again at most once
// a second; meanwhile nothing waits on it. Requests the allowances cover are admitted as before;
// the others are decided by on_failure: fail_open decides on this replica's own counters (its own
// spend and what it last saw of the others'), fail_closed refuses with kOverloaded (503).
// Spend settled meanwhile is kept and reported once Redis answers again, so the shared totals
// catch up by themselves.
//
// Keys in Redis (all under shared_state.key_prefix):
//   <prefix>k:<key id>|t:<tenant>:usd:d:<day index>   budget hash: spent, h:<replica> holds
//   <prefix>k:<key id>|t:<tenant>:usd:m:<month index>
//   <prefix>k:<key id>|t:<tenant>:rpm / :tpm          token bucket hash: level, at
//   <prefix>k:<key id>|t:<tenant>:arpm                 the same, for count_tokens, explain,
//                                                      feedback and the reports
//                                                      (limits::Admission::kAuxiliary)
// Budget hashes expire a day after their period ends; buckets two minutes after their last use.
//
// Thread-safety: every public method may be called from any thread. Lifetime: the keys passed in
// (and their accounts) must stay alive until the call returns (Caller holds the directory).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "config/config.h"
#include "core/clock.h"
#include "core/money.h"
#include "core/result.h"
#include "http/blocking_pool.h"
#include "http/task.h"
#include "limits/directory.h"
#include "limits/limiter.h"
#include "limits/shared_limiter.h"
#include "shared/link.h"
#include "shared/redis.h"

namespace sy::shared {

class Counters {
 public:
  // Parses the URL (kInvalidRequest, nothing secret in it) and starts the Redis and report
  // threads. An unreachable Redis is not an error here: it is the failure mode's to handle.
  static core::Result<std::unique_ptr<Counters>> Open(const config::SharedStateConfig& config,
                                                      const core::Clock& clock);
  ~Counters();
  Counters(const Counters&) = delete;
  Counters& operator=(const Counters&) = delete;

  // As limits::Admit, on the shared counters, when the allowances decide it without I/O (most
  // requests); std::nullopt when Redis must be asked first: then co_await Admit.
  std::optional<core::Status> TryAdmit(
      const limits::Key& key, int64_t now_ms, limits::RateHeaders& headers,
      limits::Admission admission = limits::Admission::kGeneration);
  // As limits::Admit, on the shared counters; waits for one Redis round trip when the
  // allowances do not cover the request.
  http::Task<core::Status> Admit(const limits::Key& key, int64_t now_ms,
                                 limits::RateHeaders& headers,
                                 limits::Admission admission = limits::Admission::kGeneration);
  // budget_check estimate, before the attempts: whether the allowances cover `worst_case`, and
  // making them cover it (one round trip). A failure leaves the decision to Reserve.
  bool Covers(const limits::Key& key, core::Money worst_case, int64_t now_ms);
  http::Task<void> Prepare(const limits::Key& key, core::Money worst_case, int64_t now_ms);
  // As limits::Reserve, on the allowances (on the local counters when Redis is down and
  // on_failure is fail_open).
  core::Status Reserve(const limits::Key& key, core::Money estimate, int64_t now_ms);
  // As limits::Settle, on both.
  void Settle(const limits::Key& key, core::Money reserved, core::Money cost, int64_t tokens,
              int64_t received_ms, int64_t now_ms);

  bool up() const { return link_.up(); }
  // Redis calls that failed (a connection that could not be made or broke), since start.
  int64_t failures() const { return link_.failures(); }
  const std::string& replica() const { return replica_; }

 private:
  struct Tracked {
    std::shared_ptr<limits::Account> account;
    std::string base;       // "<prefix>k:<id>" or "<prefix>t:<tenant>"
    limits::Policy policy;  // budgets and limits only
    bool tenant = false;
  };

  Counters(const config::SharedStateConfig& config, RedisTarget target, const core::Clock& clock);
  int64_t NowMs() const;
  core::Status Unavailable(const limits::Key& key, int64_t now_ms, limits::RateHeaders& headers,
                           limits::Admission admission);
  http::Task<bool> Ask(const limits::Key& key, std::vector<limits::SharedCall>& calls);

  // On the Redis thread.
  bool Exchange(const limits::Key& key, std::vector<limits::SharedCall>& calls);
  bool Send(const std::vector<Tracked*>& owners, std::vector<limits::SharedCall>& calls);
  Tracked& Track(const std::shared_ptr<limits::Account>& account, bool tenant,
                 const std::string& name, const limits::Policy& policy);
  // A report's walk over tracked_ (by address: Track may rehash the map between its round trips).
  struct ReportWalk {
    std::vector<limits::Account*> accounts;
    size_t next = 0;
  };
  ReportWalk WalkAll() const;
  // The periodic report: its first round trip here, each later one a job of its own.
  void Report();
  void ContinueReport(std::shared_ptr<ReportWalk> walk);
  // The last report, at shutdown: every round trip at once, every hold given back.
  void ReportAndRelease();
  // Sends the calls of the walk's next accounts, at most one round trip's worth; false when
  // Redis failed (the walk stops there; what was not sent stays for the next report).
  bool ReportPart(ReportWalk& walk, bool release);
  bool Stopping();
  std::vector<std::string> Command(const Tracked& owner, const limits::SharedCall& call) const;

  void ReportLoop();

  RedisLink link_;  // the Redis thread's
  const std::string prefix_;
  const bool fail_open_;
  const int allowance_percent_;
  const std::chrono::milliseconds sync_interval_;
  const core::Clock& clock_;
  const std::string replica_;

  std::atomic<bool> report_queued_{false};

  // The Redis thread's own.
  std::unordered_map<limits::Account*, Tracked> tracked_;

  std::mutex stop_mu_;
  std::condition_variable stop_cv_;
  bool stop_ = false;  // guarded by stop_mu_

  http::BlockingPool redis_{1, 65'536};  // the Redis thread; destroyed after the reporter stops
  std::thread reporter_;
};

}  // namespace sy::shared
