// shared::Counters against a real redis-server: two Counters on one server stand for two
// replicas (each with its own directory of the same key and tenant, as two processes have).
#include <algorithm>
#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <hiredis/hiredis.h>

#include "limits/budget.h"
#include "shared/counters.h"
#include "tests/testutil/redis_server.h"
#include "tests/testutil/run_task.h"

namespace sy::shared {
namespace {

using testutil::RedisServer;

core::Money Usd(std::string_view s) { return *core::Money::Parse(s); }

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// One replica: its counters and its own directory holding key_a of tenant acme.
struct Replica {
  std::unique_ptr<Counters> counters;
  std::shared_ptr<const limits::Directory> dir;

  const limits::Key& key() const { return dir->keys().front(); }

  core::Status Admit(limits::Admission admission = limits::Admission::kGeneration) {
    limits::RateHeaders headers;
    return testutil::RunTask(counters->Admit(key(), NowMs(), headers, admission));
  }
  void Settle(core::Money cost, int64_t tokens = 0) {
    const int64_t now = NowMs();  // received and ended at once
    counters->Settle(key(), {}, cost, tokens, now, now);
  }
};

class CountersTest : public ::testing::Test {
 protected:
  static const core::SystemClock& Clock() {
    static const core::SystemClock clock;
    return clock;
  }

  // A fresh prefix per test: tests share the server, not their counters.
  config::SharedStateConfig Config(const std::string& url, std::string on_failure = "fail_open") {
    static std::atomic<int> n{0};
    config::SharedStateConfig c;
    c.redis_url = url;
    c.on_failure = std::move(on_failure);
    c.key_prefix = "t" + std::to_string(n++) + ":";
    c.sync_interval = std::chrono::milliseconds(20);
    c.timeout = std::chrono::milliseconds(500);
    return c;
  }

  static Replica MakeReplica(const config::SharedStateConfig& config, limits::Policy key_policy,
                             limits::Policy tenant_policy = {}) {
    limits::Key k;
    k.id = "key_a";
    k.tenant = "acme";
    k.hash = limits::HashKey("pepper", "sk-sy-test");
    k.policy = std::move(key_policy);
    Replica r;
    r.dir = limits::Directory::Build({k}, {limits::Tenant{"acme", std::move(tenant_policy), 0, {}}},
                                     nullptr);
    auto opened = Counters::Open(config, Clock());
    EXPECT_TRUE(opened.has_value());
    r.counters = std::move(*opened);
    return r;
  }

  static limits::Policy DailyBudget(std::string_view usd) {
    limits::Policy p;
    p.budgets.usd_per_day = Usd(usd);
    return p;
  }

  static limits::Policy Rpm(int64_t n) {
    limits::Policy p;
    p.limits.requests_per_minute = n;
    return p;
  }

  // The day's budget hash of key_a under `prefix`.
  static std::string BudgetKey(const std::string& prefix) {
    return prefix +
           "k:key_a:usd:d:" + std::to_string(limits::PeriodIndex(limits::Period::kDay, NowMs()));
  }

  static RedisServer& Server() { return testutil::SharedRedisServer(); }
};

// Polls `done` every 10 ms for up to `limit`.
template <typename Done>
bool Eventually(Done done, std::chrono::milliseconds limit = std::chrono::seconds(10)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

// The commands a Redis server runs, in order, as lists of their arguments (Redis' MONITOR, on a
// connection of its own from construction on).
class Monitor {
 public:
  explicit Monitor(const RedisServer& server) : context_(redisConnect("127.0.0.1", server.port())) {
    if (context_ == nullptr || context_->err != 0) return;
    redisSetTimeout(context_, timeval{10, 0});  // a read that waits longer ends the reading
    freeReplyObject(redisCommand(context_, "MONITOR"));
  }
  ~Monitor() {
    if (context_ != nullptr) redisFree(context_);
  }
  Monitor(const Monitor&) = delete;
  Monitor& operator=(const Monitor&) = delete;

  // Reads commands until `enough` holds for those read so far (or a read times out).
  std::vector<std::vector<std::string>> ReadUntil(
      const std::function<bool(const std::vector<std::vector<std::string>>&)>& enough) {
    std::vector<std::vector<std::string>> commands;
    while (context_ != nullptr && context_->err == 0 && !enough(commands)) {
      void* reply = nullptr;
      if (redisGetReply(context_, &reply) != REDIS_OK) break;
      const auto* r = static_cast<const redisReply*>(reply);
      commands.push_back(Arguments(std::string_view(r->str, r->len)));
      freeReplyObject(reply);
    }
    return commands;
  }

 private:
  // `1733500000.123456 [0 127.0.0.1:5000] "EVALSHA" "ab12" "1" "key"`: the quoted parts (the
  // tests' arguments hold no quotes).
  static std::vector<std::string> Arguments(std::string_view line) {
    std::vector<std::string> args;
    for (size_t open = line.find('"'); open != std::string_view::npos;) {
      const size_t close = line.find('"', open + 1);
      if (close == std::string_view::npos) break;
      args.emplace_back(line.substr(open + 1, close - open - 1));
      open = line.find('"', close + 1);
    }
    return args;
  }

  redisContext* context_;
};

TEST_F(CountersTest, ADailyBudgetStopsBothReplicasWithinOneRequestEach) {
  const auto config = Config(Server().url());
  Replica a = MakeReplica(config, DailyBudget("1"));
  Replica b = MakeReplica(config, DailyBudget("1"));
  const core::Money cost = Usd("0.07");
  core::Money spent;
  bool a_open = true;
  bool b_open = true;
  for (int i = 0; i < 200 && (a_open || b_open); ++i) {
    Replica& r = i % 2 == 0 ? a : b;
    bool& open = i % 2 == 0 ? a_open : b_open;
    if (!open) continue;
    auto admitted = r.Admit();
    if (!admitted) {
      EXPECT_EQ(admitted.error().code, core::Errc::kBudgetExceeded) << admitted.error().message;
      open = false;
      continue;
    }
    r.Settle(cost);
    spent += cost;
  }
  EXPECT_FALSE(a_open || b_open);
  EXPECT_GE(spent, Usd("1"));
  EXPECT_LE(spent, Usd("1") + cost + cost);  // one request past its allowance per replica
  // Both reported: Redis has every cent.
  EXPECT_TRUE(Eventually([&] {
    auto v = Server().Command({"HGET", BudgetKey(config.key_prefix), "spent"});
    return v && *v == std::to_string(limits::NanoCeil(spent));
  }));
}

TEST_F(CountersTest, ARateLimitHoldsAcrossReplicas) {
  const auto config = Config(Server().url());
  Replica a = MakeReplica(config, {}, Rpm(10));
  Replica b = MakeReplica(config, {}, Rpm(10));
  int admitted = 0;
  for (int i = 0; i < 30; ++i) {
    auto s = (i % 2 == 0 ? a : b).Admit();
    if (s) {
      ++admitted;
    } else {
      EXPECT_EQ(s.error().code, core::Errc::kRateLimited);
      EXPECT_NE(s.error().message.find("tenant acme allows 10 requests per minute"),
                std::string::npos);
    }
  }
  EXPECT_EQ(admitted, 10);  // 5% of 10 is under one: every lease is one request, so exact
}

// count_tokens and route explain (Admission::kAuxiliary) share their own bucket across replicas,
// of the same size as requests_per_minute and apart from generation's: generation spent on both
// replicas leaves all of it, and it holds exactly across them.
TEST_F(CountersTest, TheAuxiliaryBucketHoldsAcrossReplicasApartFromGeneration) {
  const auto config = Config(Server().url());
  Replica a = MakeReplica(config, {}, Rpm(10));
  Replica b = MakeReplica(config, {}, Rpm(10));
  for (int i = 0; i < 20; ++i) (void)(i % 2 == 0 ? a : b).Admit();  // generation: all 10 spent
  EXPECT_FALSE(a.Admit());
  int admitted = 0;
  for (int i = 0; i < 30; ++i) {
    auto s = (i % 2 == 0 ? a : b).Admit(limits::Admission::kAuxiliary);
    if (s) {
      ++admitted;
    } else {
      EXPECT_EQ(s.error().code, core::Errc::kRateLimited);
      EXPECT_EQ(s.error().reason, "auxiliary_requests");
      EXPECT_NE(s.error().message.find("tenant acme allows 10 token counts, route explanations, "
                                       "feedback, reports and stored-response calls per minute"),
                std::string::npos)
          << s.error().message;
    }
  }
  EXPECT_EQ(admitted, 10);
  EXPECT_FALSE(b.Admit());  // generation is still spent, not refilled by counting
}

TEST_F(CountersTest, ConcurrentRequestsOnBothReplicasNeverPassTheRateLimit) {
  const auto config = Config(Server().url());
  Replica a = MakeReplica(config, Rpm(60));
  Replica b = MakeReplica(config, Rpm(60));
  std::atomic<int> admitted{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      Replica& r = t % 2 == 0 ? a : b;
      for (int i = 0; i < 40; ++i) {
        if (r.Admit()) admitted.fetch_add(1);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_LE(admitted.load(), 60);
  // Leases of 3 (5% of 60): what may sit unused on a replica when the bucket runs dry.
  EXPECT_GE(admitted.load(), 60 - 2 * 3 * 2);
}

TEST_F(CountersTest, EstimatesReservedOnBothReplicasNeverPassTheBudget) {
  const auto config = Config(Server().url());
  Replica a = MakeReplica(config, DailyBudget("1"));
  Replica b = MakeReplica(config, DailyBudget("1"));
  const core::Money worst_case = Usd("0.3");
  const core::Money cost = Usd("0.25");  // what each request really costs: less than its estimate
  core::Money spent;
  bool open[2] = {true, true};
  for (int i = 0; i < 100 && (open[0] || open[1]); ++i) {
    Replica& r = i % 2 == 0 ? a : b;
    if (!open[i % 2]) continue;
    const int64_t now = NowMs();
    if (!r.counters->Covers(r.key(), worst_case, now)) {
      auto prepare = [&]() -> http::Task<bool> {
        co_await r.counters->Prepare(r.key(), worst_case, now);
        co_return true;
      };
      testutil::RunTask(prepare());
    }
    auto reserved = r.counters->Reserve(r.key(), worst_case, now);
    if (!reserved) {
      EXPECT_EQ(reserved.error().code, core::Errc::kBudgetExceeded);
      EXPECT_NE(reserved.error().message.find("could cost up to $0.3"), std::string::npos)
          << reserved.error().message;
      open[i % 2] = false;
      continue;
    }
    r.counters->Settle(r.key(), worst_case, cost, 0, now, now);
    spent += cost;
  }
  EXPECT_FALSE(open[0] || open[1]);
  EXPECT_LE(spent, Usd("1"));  // estimates are reserved before: never past the limit
  EXPECT_GE(spent, Usd("0.5"));
}

TEST_F(CountersTest, FailClosedRefusesWhatNeedsRedisAndRecovers) {
  auto server = RedisServer::Start();
  ASSERT_TRUE(server.has_value());
  Replica a = MakeReplica(Config((*server)->url(), "fail_closed"), Rpm(1'000));
  ASSERT_TRUE(a.Admit());
  ASSERT_TRUE((*server)->Stop());
  // The lease in hand (50 requests) still admits; once spent, Redis is needed.
  core::Status refused;
  for (int i = 0; i < 100 && refused; ++i) refused = a.Admit();
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, core::Errc::kOverloaded);
  EXPECT_EQ(refused.error().retry_after, std::chrono::seconds(1));
  EXPECT_FALSE(a.counters->up());
  ASSERT_TRUE((*server)->Restart());
  EXPECT_TRUE(Eventually([&] { return static_cast<bool>(a.Admit()); }));
  EXPECT_TRUE(a.counters->up());
}

TEST_F(CountersTest, FailOpenDecidesLocallyAndReportsTheSpendOnceBack) {
  auto server = RedisServer::Start();
  ASSERT_TRUE(server.has_value());
  const auto config = Config((*server)->url());
  Replica a = MakeReplica(config, DailyBudget("100"));
  ASSERT_TRUE(a.Admit());
  a.Settle(Usd("0.5"));
  ASSERT_TRUE((*server)->Stop());
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(a.Admit()) << i;  // the allowance, then the local counters
    a.Settle(Usd("0.5"));
  }
  ASSERT_TRUE((*server)->Restart());  // empty: the spend comes back from this replica
  EXPECT_TRUE(Eventually([&] {
    auto v = (*server)->Command({"HGET", BudgetKey(config.key_prefix), "spent"});
    return a.Admit() && v && *v == std::to_string(limits::NanoCeil(Usd("10.5")));
  }));
}

TEST_F(CountersTest, AStoppingReplicaGivesItsHoldBack) {
  const auto config = Config(Server().url());
  Replica a = MakeReplica(config, DailyBudget("1"));
  ASSERT_TRUE(a.Admit());
  auto fields = Server().Command({"HKEYS", BudgetKey(config.key_prefix)});
  ASSERT_TRUE(fields.has_value());
  EXPECT_NE(fields->find("h:" + a.counters->replica()), std::string::npos);
  a.counters.reset();
  fields = Server().Command({"HKEYS", BudgetKey(config.key_prefix)});
  ASSERT_TRUE(fields.has_value());
  EXPECT_EQ(*fields, "spent");
}

// A report too big for one round trip (512 calls) sends one round trip per job, each queued
// behind the leases already waiting, so that a lease waits for one round trip of a report, not
// for all of it. Redis is paused while a report of 1,200 accounts' spend has its first round
// trip in flight; a lease asked for then must run before the report's later round trips, in the
// order Redis' MONITOR shows.
TEST_F(CountersTest, ALeaseWaitsForOneRoundTripOfAReportNotForAllOfIt) {
  auto server = RedisServer::Start();  // its own: this test pauses it
  ASSERT_TRUE(server.has_value());
  auto config = Config((*server)->url());
  config.sync_interval = std::chrono::milliseconds(100);
  config.timeout = std::chrono::seconds(5);  // outlasts the pause
  constexpr size_t kReported = 1'200;
  std::vector<limits::Key> keys(kReported + 1);
  for (size_t i = 0; i < keys.size(); ++i) {
    keys[i].id = i < kReported ? "key_" + std::to_string(i) : "late";
    keys[i].tenant = "acme";
    keys[i].hash = limits::HashKey("pepper", "sk-sy-" + keys[i].id);
    keys[i].policy = DailyBudget("1000");
  }
  const auto dir = limits::Directory::Build(keys, {limits::Tenant{"acme", {}, 0, {}}}, nullptr);
  auto opened = Counters::Open(config, Clock());
  ASSERT_TRUE(opened.has_value());
  Counters& counters = **opened;
  auto admit = [&](const limits::Key& key) {
    limits::RateHeaders headers;
    return testutil::RunTask(counters.Admit(key, NowMs(), headers));
  };
  for (size_t i = 0; i < kReported; ++i) ASSERT_TRUE(admit(dir->keys()[i]));  // leased: tracked

  Monitor monitor(**server);
  ASSERT_TRUE((*server)->Command({"CLIENT", "PAUSE", "600", "WRITE"}));
  const int64_t now = NowMs();
  for (size_t i = 0; i < kReported; ++i) {
    counters.Settle(dir->keys()[i], {}, Usd("0.01"), 0, now, now);
  }
  // The next report (within 100 ms) sends its first round trip and waits for Redis; the lease
  // is asked for after it.
  std::this_thread::sleep_for(std::chrono::milliseconds(250));
  ASSERT_TRUE(admit(dir->keys()[kReported]));

  // EVALSHA sha 1 <key> <replica> <delta> ...: the report's calls carry the settled spend.
  const std::string reported = config.key_prefix + "k:key_";
  const std::string late = config.key_prefix + "k:late:";
  auto is_report = [&](const std::vector<std::string>& c) {
    return c.size() > 5 && c[3].starts_with(reported) && c[5] != "0";
  };
  auto is_lease = [&](const std::vector<std::string>& c) {
    return c.size() > 3 && c[3].starts_with(late);
  };
  const auto commands = monitor.ReadUntil([&](const auto& read) {
    return std::any_of(read.begin(), read.end(), is_lease) &&
           static_cast<size_t>(std::count_if(read.begin(), read.end(), is_report)) == kReported;
  });
  const auto lease = std::find_if(commands.begin(), commands.end(), is_lease);
  ASSERT_NE(lease, commands.end());
  const auto before = std::count_if(commands.begin(), lease, is_report);
  const auto after = std::count_if(lease, commands.end(), is_report);
  EXPECT_EQ(static_cast<size_t>(before + after), kReported);
  EXPECT_LE(before, 600);  // one round trip, not the report's three
  EXPECT_GT(after, 0);
}

}  // namespace
}  // namespace sy::shared
