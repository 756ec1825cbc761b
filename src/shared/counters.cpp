#include "shared/counters.h"

#include <cstdio>
#include <random>

#include <unistd.h>

#include "limits/budget.h"

namespace sy::shared {
namespace {

using limits::SharedCall;
using limits::SharedReply;

constexpr int64_t kBucketIdleMs = 120'000;     // a full bucket is no different from none
constexpr int64_t kBudgetKeepMs = 86'400'000;  // a budget hash outlives its period by a day
constexpr size_t kMaxPipeline = 512;           // calls per round trip in a report

// Budget: KEYS[1] the period's hash. ARGV: replica, delta (spend to add), hold (this replica's
// hold before the grant), want, need, limit, seed (spent when the hash is new), expire_at_ms,
// hold_ms. Holds are "h:<replica>" = "<nano>:<valid until ms>"; lapsed ones are dropped. Grants
// come from what neither the spend nor anyone's hold takes. Returns {grant, spent, others}.
constexpr const char* kBudgetScript = R"lua(
local key, me = KEYS[1], 'h:' .. ARGV[1]
local hold, want, need, limit = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if redis.call('HSETNX', key, 'spent', ARGV[7]) == 1 then
  redis.call('PEXPIREAT', key, ARGV[8])
end
local spent = redis.call('HINCRBY', key, 'spent', ARGV[2])
local others = 0
local fields = redis.call('HGETALL', key)
for i = 1, #fields, 2 do
  local f = fields[i]
  if f ~= me and string.sub(f, 1, 2) == 'h:' then
    local v = fields[i + 1]
    local sep = string.find(v, ':', 1, true)
    if tonumber(string.sub(v, sep + 1)) <= now then
      redis.call('HDEL', key, f)
    else
      others = others + tonumber(string.sub(v, 1, sep - 1))
    end
  end
end
local grant = 0
if want > 0 then
  local free = limit - spent - others - hold
  if free >= need then grant = math.min(want, free) end
end
hold = hold + grant
if hold > 0 then
  redis.call('HSET', key, me, string.format('%d:%d', hold, now + tonumber(ARGV[9])))
else
  redis.call('HDEL', key, me)
end
return {grant, spent, others}
)lua";

// Rate: KEYS[1] the bucket. ARGV: per_minute, want, debit, idle_ms. The arithmetic of
// limits/rate.h: levels in sub-units (60000 a unit), refilled per_minute sub-units a
// millisecond, full at first. Takes up to `want` whole units after paying `debit` (negative:
// units a replica gives back, never past full).
// Returns {grant, whole units left, ms until one unit, ms until full}.
constexpr const char* kRateScript = R"lua(
local per, want, debit = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local unit = 60000
local cap = per * unit
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local v = redis.call('HMGET', KEYS[1], 'level', 'at')
local level, at = tonumber(v[1]) or cap, tonumber(v[2]) or now
if now > at then level = level + (now - at) * per end
level = level - debit * unit
if level > cap then level = cap end
local grant = 0
if want > 0 and level >= unit then
  grant = math.min(want, math.floor(level / unit))
  level = level - grant * unit
end
redis.call('HSET', KEYS[1], 'level', string.format('%d', level), 'at', string.format('%d', now))
redis.call('PEXPIRE', KEYS[1], ARGV[4])
local wait, full = 0, 0
if level < unit then wait = math.ceil((unit - level) / per) end
if level < cap then full = math.ceil((cap - level) / per) end
local left = 0
if level > 0 then left = math.floor(level / unit) end
return {grant, left, wait, full}
)lua";

const RedisScript& BudgetScript() {
  static const RedisScript script(kBudgetScript);
  return script;
}

const RedisScript& RateScript() {
  static const RedisScript script(kRateScript);
  return script;
}

// "<host>:<pid>:<8 hex>": unique among the replicas sharing a Redis.
std::string ReplicaId() {
  char host[256] = {};
  if (gethostname(host, sizeof(host) - 1) != 0) host[0] = '\0';
  std::random_device random;
  char tail[16];
  std::snprintf(tail, sizeof(tail), "%08x", static_cast<unsigned>(random()));
  return std::string(host) + ":" + std::to_string(getpid()) + ":" + tail;
}

limits::Policy LimitsOnly(const limits::Policy& policy) {
  limits::Policy out;
  out.budgets = policy.budgets;
  out.limits = policy.limits;
  return out;
}

std::optional<SharedReply> ParseReply(const RedisReply& reply, SharedCall::Kind kind) {
  if (reply.type != RedisReply::Type::kArray) return std::nullopt;
  const size_t want = kind == SharedCall::Kind::kBudget ? 3 : 4;
  if (reply.elements.size() != want) return std::nullopt;
  for (const RedisReply& e : reply.elements) {
    if (e.type != RedisReply::Type::kInteger) return std::nullopt;
  }
  const auto& e = reply.elements;
  if (kind == SharedCall::Kind::kBudget) {
    return SharedReply{.grant = e[0].integer, .spent = e[1].integer, .others = e[2].integer};
  }
  return SharedReply{.grant = e[0].integer,
                     .remaining = e[1].integer,
                     .wait_ms = e[2].integer,
                     .full_ms = e[3].integer};
}

}  // namespace

core::Result<std::unique_ptr<Counters>> Counters::Open(const config::SharedStateConfig& config,
                                                       const core::Clock& clock) {
  auto target = ParseRedisUrl(config.redis_url);
  if (!target) return std::move(target).error();
  return std::unique_ptr<Counters>(new Counters(config, std::move(*target), clock));
}

Counters::Counters(const config::SharedStateConfig& config, RedisTarget target,
                   const core::Clock& clock)
    : link_(std::move(target), config.timeout, "shared counters", {&BudgetScript(), &RateScript()}),
      prefix_(config.key_prefix),
      fail_open_(config.on_failure != "fail_closed"),
      allowance_percent_(config.allowance_percent),
      sync_interval_(config.sync_interval),
      clock_(clock),
      replica_(ReplicaId()) {
  (void)redis_.Post([this] { (void)link_.Get(); });
  reporter_ = std::thread([this] { ReportLoop(); });
}

Counters::~Counters() {
  {
    std::lock_guard<std::mutex> lock(stop_mu_);
    stop_ = true;
  }
  stop_cv_.notify_all();
  reporter_.join();
  // The last report gives every hold back, so the other replicas can spend it at once.
  (void)redis_.Post([this] { ReportAndRelease(); });
}

int64_t Counters::NowMs() const { return core::UnixMs(clock_.Now()); }

core::Status Counters::Unavailable(const limits::Key& key, int64_t now_ms,
                                   limits::RateHeaders& headers, limits::Admission admission) {
  headers = {};
  if (fail_open_) return limits::Admit(key, now_ms, headers, admission);
  auto e = core::MakeError(core::Errc::kOverloaded,
                           "Budgets and rate limits are counted in Redis, which is not answering "
                           "(shared_state.on_failure: fail_closed); retry shortly.");
  e.retry_after = std::chrono::seconds(1);
  return e;
}

std::optional<core::Status> Counters::TryAdmit(const limits::Key& key, int64_t now_ms,
                                               limits::RateHeaders& headers,
                                               limits::Admission admission) {
  if (!limits::HasLimits(key)) return limits::Admit(key, now_ms, headers, admission);
  std::vector<SharedCall> calls;  // allocates only when Redis must be asked
  return limits::SharedAdmit(key, now_ms, allowance_percent_, false, calls, headers, admission);
}

bool Counters::Covers(const limits::Key& key, core::Money worst_case, int64_t now_ms) {
  std::vector<SharedCall> calls;
  limits::SharedPrepare(key, worst_case, now_ms, allowance_percent_, calls);
  return calls.empty();
}

http::Task<core::Status> Counters::Admit(const limits::Key& key, int64_t now_ms,
                                         limits::RateHeaders& headers,
                                         limits::Admission admission) {
  if (!limits::HasLimits(key)) co_return limits::Admit(key, now_ms, headers, admission);
  std::vector<SharedCall> calls;
  // Two rounds: the allowances, then (after one round trip) the allowances Redis topped up.
  for (int round = 0; round < 2; ++round) {
    headers = {};
    auto decided =
        limits::SharedAdmit(key, now_ms, allowance_percent_, round == 1, calls, headers, admission);
    if (decided) co_return std::move(*decided);
    const bool answered = co_await Ask(key, calls);
    if (!answered) co_return Unavailable(key, now_ms, headers, admission);
  }
  co_return core::Status();  // not reached: the last round always decides
}

http::Task<void> Counters::Prepare(const limits::Key& key, core::Money worst_case, int64_t now_ms) {
  std::vector<SharedCall> calls;
  limits::SharedPrepare(key, worst_case, now_ms, allowance_percent_, calls);
  if (!calls.empty()) (void)co_await Ask(key, calls);
}

core::Status Counters::Reserve(const limits::Key& key, core::Money estimate, int64_t now_ms) {
  const bool local = fail_open_ && !link_.up();
  return limits::SharedReserve(key, estimate, now_ms, local);
}

void Counters::Settle(const limits::Key& key, core::Money reserved, core::Money cost,
                      int64_t tokens, int64_t received_ms, int64_t now_ms) {
  limits::SharedSettle(key, reserved, cost, tokens, received_ms, now_ms);
}

http::Task<bool> Counters::Ask(const limits::Key& key, std::vector<SharedCall>& calls) {
  if (!link_.due()) co_return false;
  bool answered = false;
  const bool ran = co_await redis_.Run([&] { answered = Exchange(key, calls); });
  const bool done = ran && answered;
  co_return done;
}

Counters::Tracked& Counters::Track(const std::shared_ptr<limits::Account>& account, bool tenant,
                                   const std::string& name, const limits::Policy& policy) {
  auto [it, added] = tracked_.try_emplace(account.get());
  Tracked& t = it->second;
  if (added) {
    t.account = account;
    t.base = prefix_ + (tenant ? "t:" : "k:") + name;
    t.tenant = tenant;
  }
  t.policy = LimitsOnly(policy);  // a reload may have changed it
  return t;
}

std::vector<std::string> Counters::Command(const Tracked& owner, const SharedCall& call) const {
  if (call.kind == SharedCall::Kind::kBudget) {
    const char* period = call.period == limits::Period::kDay ? ":usd:d:" : ":usd:m:";
    const int64_t expire_at = limits::PeriodStartMs(call.period, call.index + 1) + kBudgetKeepMs;
    return {"EVALSHA",
            BudgetScript().sha1(),
            "1",
            owner.base + period + std::to_string(call.index),
            replica_,
            std::to_string(call.delta),
            std::to_string(call.hold),
            std::to_string(call.want),
            std::to_string(call.need),
            std::to_string(call.limit),
            std::to_string(call.seed),
            std::to_string(expire_at),
            std::to_string(limits::kHoldMs)};
  }
  const char* bucket = call.kind == SharedCall::Kind::kRequests    ? ":rpm"
                       : call.kind == SharedCall::Kind::kAuxiliary ? ":arpm"
                                                                   : ":tpm";
  return {"EVALSHA",
          RateScript().sha1(),
          "1",
          owner.base + bucket,
          std::to_string(call.limit),
          std::to_string(call.want),
          std::to_string(call.debit),
          std::to_string(kBucketIdleMs)};
}

bool Counters::Exchange(const limits::Key& key, std::vector<SharedCall>& calls) {
  if (!link_.Get()) return false;
  Tracked& key_owner = Track(key.account, false, key.id, key.policy);
  Tracked& tenant_owner = Track(key.owner->account, true, key.tenant, key.owner->policy);
  std::vector<Tracked*> owners;
  owners.reserve(calls.size());
  for (const SharedCall& call : calls) owners.push_back(call.tenant ? &tenant_owner : &key_owner);
  return Send(owners, calls);
}

// Sends `calls` (owners[i] owns calls[i]) in one pipelined round trip: takes what each must
// report out of its account right before, applies the replies right after, gives everything back
// when Redis failed.
bool Counters::Send(const std::vector<Tracked*>& owners, std::vector<SharedCall>& calls) {
  const int64_t sent_at = NowMs();
  std::vector<std::vector<std::string>> commands;
  commands.reserve(calls.size());
  for (size_t i = 0; i < calls.size(); ++i) {
    std::lock_guard<std::mutex> lock(owners[i]->account->mu);
    limits::TakeReport(*owners[i]->account, sent_at, calls[i]);
    commands.push_back(Command(*owners[i], calls[i]));
  }
  RedisConnection* conn = link_.Get();
  auto replies = conn
                     ? conn->Pipeline(commands)
                     : core::Result<std::vector<RedisReply>>(core::MakeError(
                           core::Errc::kInternal, "Redis at " + link_.target().display + ": down"));
  std::optional<core::Error> failure;
  if (!replies) failure = replies.error();
  for (size_t i = 0; i < calls.size(); ++i) {
    std::optional<SharedReply> reply;
    if (replies) reply = ParseReply((*replies)[i], calls[i].kind);
    std::lock_guard<std::mutex> lock(owners[i]->account->mu);
    if (reply) {
      limits::ApplyReply(*owners[i]->account, calls[i], *reply, sent_at);
      continue;
    }
    // Not applied (as far as we know: a reply lost after Redis ran the script reports that
    // spend twice, which errs toward refusing).
    limits::GiveBack(*owners[i]->account, calls[i]);
    if (!failure) {
      failure = core::MakeError(core::Errc::kInternal,
                                "Redis at " + link_.target().display +
                                    ": unexpected reply: " + (*replies)[i].text.substr(0, 200));
    }
  }
  if (failure) link_.Failed(*failure);  // a script error is handled as a broken connection
  return !failure;
}

Counters::ReportWalk Counters::WalkAll() const {
  ReportWalk walk;
  walk.accounts.reserve(tracked_.size());
  for (const auto& entry : tracked_) walk.accounts.push_back(entry.first);
  return walk;
}

void Counters::Report() {
  if (!link_.Get()) {
    report_queued_.store(false, std::memory_order_relaxed);
    return;
  }
  ContinueReport(std::make_shared<ReportWalk>(WalkAll()));
}

void Counters::ContinueReport(std::shared_ptr<ReportWalk> walk) {
  while (!Stopping() && ReportPart(*walk, /*release=*/false) &&
         walk->next < walk->accounts.size()) {
    // Under stop_mu_, so that nothing is queued once the destructor has set stop_ (the last
    // report, queued after that, covers the rest).
    std::lock_guard<std::mutex> lock(stop_mu_);
    if (stop_) break;
    if (redis_.Post([this, walk] { ContinueReport(walk); })) return;
    // The queue is full: go on here rather than leave accounts unreported.
  }
  report_queued_.store(false, std::memory_order_relaxed);
}

void Counters::ReportAndRelease() {
  if (!link_.Get()) return;
  ReportWalk walk = WalkAll();
  bool sent = true;
  while (sent && walk.next < walk.accounts.size()) sent = ReportPart(walk, /*release=*/true);
}

bool Counters::ReportPart(ReportWalk& walk, bool release) {
  const int64_t now = NowMs();
  // Holds lapsing before the next report but one are renewed now.
  const int64_t horizon = 2 * sync_interval_.count() + limits::kHoldMs / 5;
  std::vector<SharedCall> calls;
  std::vector<Tracked*> owners;
  while (walk.next < walk.accounts.size() && calls.size() < kMaxPipeline) {
    auto it = tracked_.find(walk.accounts[walk.next++]);
    if (it == tracked_.end()) continue;  // forgotten by an earlier part
    Tracked& t = it->second;
    const size_t before = calls.size();
    {
      std::lock_guard<std::mutex> lock(t.account->mu);
      limits::ReportCalls(*t.account, t.policy, t.tenant, now, horizon, release, calls);
    }
    owners.resize(calls.size(), &t);
    // An account no directory holds any more, with nothing left to report, is forgotten.
    if (calls.size() == before && t.account.use_count() == 1) tracked_.erase(it);
  }
  return calls.empty() || Send(owners, calls);
}

bool Counters::Stopping() {
  std::lock_guard<std::mutex> lock(stop_mu_);
  return stop_;
}

void Counters::ReportLoop() {
  std::unique_lock<std::mutex> lock(stop_mu_);
  while (!stop_cv_.wait_for(lock, sync_interval_, [this] { return stop_; })) {
    if (report_queued_.exchange(true, std::memory_order_relaxed)) continue;  // one at a time
    if (!redis_.Post([this] { Report(); })) {
      report_queued_.store(false, std::memory_order_relaxed);
    }
  }
}

}  // namespace sy::shared
