#include "shared/health_share.h"

#include <algorithm>

namespace sy::shared {
namespace {

// KEYS[1] the deployment's hash. ARGV: open_until, cooldown_until (wall ms; 0 = none). Keeps the
// later of each; the hash expires a second after both have passed.
constexpr const char* kMaxScript = R"lua(
local v = redis.call('HMGET', KEYS[1], 'open_until', 'cooldown_until')
local o = math.max(tonumber(v[1]) or 0, tonumber(ARGV[1]))
local c = math.max(tonumber(v[2]) or 0, tonumber(ARGV[2]))
redis.call('HSET', KEYS[1], 'open_until', string.format('%d', o), 'cooldown_until', string.format('%d', c))
redis.call('PEXPIREAT', KEYS[1], math.max(o, c) + 1000)
return 1
)lua";

const RedisScript& MaxScript() {
  static const RedisScript script(kMaxScript);
  return script;
}

// Ends closer than this are the same end seen through two clocks: not worth a write.
constexpr int64_t kSlackMs = 5;

int64_t ToInt(const RedisReply& reply) {
  if (reply.type != RedisReply::Type::kString) return 0;
  try {
    return std::stoll(reply.text);
  } catch (...) {
    return 0;
  }
}

}  // namespace

core::Result<std::unique_ptr<HealthShare>> HealthShare::Start(
    const config::SharedStateConfig& config, routing::Health& health) {
  auto target = ParseRedisUrl(config.redis_url);
  if (!target) return std::move(target).error();
  return std::unique_ptr<HealthShare>(new HealthShare(config, std::move(*target), health));
}

HealthShare::HealthShare(const config::SharedStateConfig& config, RedisTarget target,
                         routing::Health& health)
    : health_(health),
      link_(std::move(target), config.timeout, "shared health", {&MaxScript()}),
      interval_(config.sync_interval),
      known_(health.size()) {
  for (size_t slot = 0; slot < health.size(); ++slot) {
    keys_.push_back(config.key_prefix + "health:" + health.key(slot));
  }
  thread_ = std::thread([this] { Loop(); });
}

HealthShare::~HealthShare() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void HealthShare::Loop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!cv_.wait_for(lock, interval_, [this] { return stop_; })) {
    lock.unlock();
    SyncOnce();
    lock.lock();
  }
}

void HealthShare::SyncOnce() {
  std::lock_guard<std::mutex> lock(sync_mu_);
  RedisConnection* conn = link_.Get();
  if (!conn || keys_.empty()) return;
  const auto steady = std::chrono::steady_clock::now();
  const int64_t wall = std::chrono::duration_cast<std::chrono::milliseconds>(
                           std::chrono::system_clock::now().time_since_epoch())
                           .count();
  const auto to_wall = [&](routing::SteadyTime t) {
    return wall + std::chrono::duration_cast<std::chrono::milliseconds>(t - steady).count();
  };
  // This replica's ends, written where they are later than what it knew; then every hash read.
  std::vector<std::vector<std::string>> commands;
  for (size_t slot = 0; slot < keys_.size(); ++slot) {
    const routing::Health::Snapshot s = health_.Read(slot, steady);
    const int64_t open =
        s.state == routing::BreakerState::kOpen && s.open_until ? to_wall(*s.open_until) : 0;
    const int64_t cool = s.cooldown_until ? to_wall(*s.cooldown_until) : 0;
    Known& k = known_[slot];
    if (open > k.open_until + kSlackMs || cool > k.cooldown_until + kSlackMs) {
      commands.push_back({"EVALSHA", MaxScript().sha1(), "1", keys_[slot], std::to_string(open),
                          std::to_string(cool)});
      k.open_until = std::max(k.open_until, open);
      k.cooldown_until = std::max(k.cooldown_until, cool);
    }
  }
  const size_t writes = commands.size();
  for (const std::string& key : keys_) {
    commands.push_back({"HMGET", key, "open_until", "cooldown_until"});
  }
  auto replies = conn->Pipeline(commands);
  if (!replies) {
    link_.Failed(replies.error());
    return;
  }
  for (size_t slot = 0; slot < keys_.size(); ++slot) {
    const RedisReply& r = (*replies)[writes + slot];
    if (r.type != RedisReply::Type::kArray || r.elements.size() != 2) continue;
    const int64_t open = ToInt(r.elements[0]);
    const int64_t cool = ToInt(r.elements[1]);
    Known& k = known_[slot];
    // Later here than this replica knew: another replica's; apply what has not passed.
    if (open > k.open_until + kSlackMs && open > wall) {
      // No replica opens a breaker for longer than the configured cool-off: a value past it (a
      // corrupt or hostile key) must not take the deployment out for years, nor overflow the
      // clock. Retry-after cool-downs are capped by Health itself (max_cooldown).
      const auto open_for =
          std::min(std::chrono::milliseconds(open - wall), health_.breaker().cool_off);
      health_.NoteOpenElsewhere(slot, steady + open_for);
    }
    if (cool > k.cooldown_until + kSlackMs && cool > wall) {
      health_.NoteRetryAfter(slot, steady, std::chrono::milliseconds(cool - wall));
    }
    k.open_until = std::max(k.open_until, open);
    k.cooldown_until = std::max(k.cooldown_until, cool);
  }
}

}  // namespace sy::shared
