// cache::RedisStore: the response cache in Redis, shared by every replica.
//
// One pool thread owns the RedisLink (shared/link.h): every Redis call runs there, so the
// connection needs no lock and a request worker never blocks on Redis. Get awaits its GET on that
// thread; Put queues its SET and returns. While the link is down (a second after a failure) both
// give up at once, without queueing: a cache that misses costs the request nothing.
//
// A GET has a request waiting for it; a SET (up to kMaxEntryBytes) has not. So a GET goes ahead
// of every queued SET (BlockingPool::RunAhead), and one that a slow Redis kept waiting longer
// than shared_state.timeout is a miss without being sent: a request waits for a miss at most
// about three timeouts (its wait, the SET or GET running when it ends, its own GET), however many
// SETs are queued.
#include <algorithm>
#include <array>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "cache/cache.h"
#include "cache/detail/entry_codec.h"
#include "http/blocking_pool.h"
#include "shared/link.h"
#include "shared/redis.h"

namespace sy::cache {
namespace {

// SETs queued beyond which Put drops the new one: a Redis slower than the traffic must not grow
// memory (a queued SET holds up to kMaxEntryBytes).
constexpr int kMaxQueuedSets = 256;
// GETs waiting beyond which Get misses at once.
constexpr int kMaxQueuedGets = 256;

// Longer ttls are cut to this (a year), far below where milliseconds could overflow.
constexpr std::chrono::seconds kMaxTtl = std::chrono::hours(24 * 365);

class RedisStoreImpl final : public Store {
 public:
  RedisStoreImpl(const config::SharedStateConfig& config, shared::RedisTarget target)
      : prefix_(config.key_prefix + "cache:"),
        max_get_wait_(config.timeout),
        link_(std::move(target), config.timeout, "response cache", {}),
        pool_(1, kMaxQueuedSets, kMaxQueuedGets) {}

  // Lets the queued SETs run (each bounded by the timeout, or dropped at once while Redis is
  // down), then closes the connection; the pool's thread has been joined, so this thread may.
  ~RedisStoreImpl() override {
    pool_.Drain();
    link_.Close();
  }

  RedisStoreImpl(const RedisStoreImpl&) = delete;
  RedisStoreImpl& operator=(const RedisStoreImpl&) = delete;

  http::Task<std::optional<Entry>> Get(std::string key) override {
    if (!link_.due()) co_return std::nullopt;
    std::optional<Entry> found;
    // By reference: RunAhead waits for the job (or skips it), whatever happens to this coroutine
    // meanwhile.
    // Named, not built in the co_await's arguments (GCC 12 destroys such temporaries twice).
    std::function<void()> work = [this, &key, &found] { found = Fetch(key); };
    const bool ran = co_await pool_.RunAhead(std::move(work), max_get_wait_);
    if (!ran) co_return std::nullopt;  // too many GETs waiting, or this one waited too long
    co_return found;
  }

  void Put(std::string key, Entry entry, std::chrono::seconds ttl) override {
    if (ttl <= std::chrono::seconds::zero() || detail::EntrySize(entry) > kMaxEntryBytes) return;
    if (!link_.due()) return;
    const auto ttl_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::min(ttl, kMaxTtl));
    // Encoded here, on the caller's thread, so the pool thread only talks to Redis.
    std::array<std::string, 5> command = {"SET", prefix_ + key, detail::EncodeEntry(entry), "PX",
                                          std::to_string(ttl_ms.count())};
    // Behind every GET; dropped when kMaxQueuedSets are queued.
    (void)pool_.Post([this, command = std::move(command)] { Store(command); });
  }

 private:
  // On the pool thread.
  std::optional<Entry> Fetch(const std::string& key) {
    shared::RedisConnection* conn = link_.Get();
    if (!conn) return std::nullopt;
    const std::array<std::string, 2> command = {"GET", prefix_ + key};
    auto reply = conn->Command(command);
    if (!reply) {
      link_.Failed(reply.error());
      return std::nullopt;
    }
    // nil: no entry. An error reply (WRONGTYPE on a key that is not ours) or a value that does
    // not decode (another format): a miss; the next Put replaces it.
    if (reply->type != shared::RedisReply::Type::kString) return std::nullopt;
    return detail::DecodeEntry(reply->text);
  }

  // On the pool thread. An error reply (out of memory under maxmemory) drops the entry.
  void Store(const std::array<std::string, 5>& command) {
    shared::RedisConnection* conn = link_.Get();
    if (!conn) return;
    auto reply = conn->Command(command);
    if (!reply) link_.Failed(reply.error());
  }

  const std::string prefix_;                      // "<key_prefix>cache:"
  const std::chrono::milliseconds max_get_wait_;  // shared_state.timeout
  shared::RedisLink link_;   // used on pool_'s thread only (but due(), from any)
  http::BlockingPool pool_;  // one thread; declared last, so it is joined first
};

}  // namespace

core::Result<std::unique_ptr<Store>> RedisStore(const config::SharedStateConfig& config) {
  auto target = shared::ParseRedisUrl(config.redis_url);
  if (!target) return std::move(target).error();
  return std::unique_ptr<Store>(std::make_unique<RedisStoreImpl>(config, std::move(*target)));
}

}  // namespace sy::cache
