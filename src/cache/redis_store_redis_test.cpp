// cache::RedisStore against a real redis-server. Two stores on one server stand for two
// replicas. Each test has its own key prefix: tests share the server, not their entries.
#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <gtest/gtest.h>

#include "cache/cache.h"
#include "cache/detail/entry_codec.h"
#include "tests/testutil/redis_server.h"
#include "tests/testutil/run_task.h"

namespace sy::cache {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using std::chrono::steady_clock;
using testutil::RedisServer;
using testutil::SharedRedisServer;
using namespace std::string_literals;

config::SharedStateConfig Config(const std::string& url) {
  static std::atomic<int> n{0};
  config::SharedStateConfig c;
  c.redis_url = url;
  c.key_prefix = "c" + std::to_string(n++) + ":";
  c.timeout = milliseconds(500);
  return c;
}

std::unique_ptr<Store> Open(const config::SharedStateConfig& config) {
  auto opened = RedisStore(config);
  EXPECT_TRUE(opened.has_value()) << opened.error().message;
  return opened ? std::move(*opened) : nullptr;
}

Entry MakeEntry(std::string body) {
  Entry e;
  e.stream = true;
  e.body = std::move(body);
  e.model = "gpt-4o-mini";
  e.provider = "openai";
  e.stored_at_ms = 1'700'000'000'000;
  return e;
}

std::optional<Entry> GetNow(Store& store, const std::string& key) {
  return testutil::RunTask(store.Get(key));
}

// Put is queued: polls Get until the entry is there, for up to `limit`.
std::optional<Entry> PollGet(Store& store, const std::string& key,
                             milliseconds limit = milliseconds(2'000)) {
  const auto deadline = steady_clock::now() + limit;
  while (true) {
    if (auto hit = GetNow(store, key)) return hit;
    if (steady_clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(milliseconds(10));
  }
}

// Polls Get until the entry under `key` has `body`, for up to `limit`; the last entry seen.
std::optional<Entry> PollBody(Store& store, const std::string& key, std::string_view body,
                              milliseconds limit = milliseconds(2'000)) {
  const auto deadline = steady_clock::now() + limit;
  std::optional<Entry> seen;
  while (steady_clock::now() < deadline) {
    seen = GetNow(store, key);
    if (seen && seen->body == body) break;
    std::this_thread::sleep_for(milliseconds(10));
  }
  return seen;
}

std::string Text(const core::Result<std::string>& reply) {
  return reply ? *reply : "error: " + reply.error().message;
}

TEST(RedisStoreTest, PutThenGet) {
  const auto config = Config(SharedRedisServer().url());
  auto store = Open(config);
  ASSERT_NE(store, nullptr);
  EXPECT_FALSE(GetNow(*store, "k1").has_value());
  const Entry e = MakeEntry("data: {\"x\":1}\n\n\0binary"s);
  store->Put("k1", e, seconds(60));
  const auto hit = PollGet(*store, "k1");
  ASSERT_TRUE(hit.has_value());
  EXPECT_TRUE(hit->stream);
  EXPECT_EQ(hit->body, e.body);
  EXPECT_EQ(hit->model, e.model);
  EXPECT_EQ(hit->provider, e.provider);
  EXPECT_EQ(hit->stored_at_ms, e.stored_at_ms);
  EXPECT_FALSE(GetNow(*store, "k2").has_value());

  // Under "<key_prefix>cache:<key>", in the entry codec's format.
  const auto raw = SharedRedisServer().Command({"GET", config.key_prefix + "cache:k1"});
  ASSERT_TRUE(raw.has_value()) << raw.error().message;
  const auto decoded = detail::DecodeEntry(*raw);
  ASSERT_TRUE(decoded.has_value());
  EXPECT_EQ(decoded->body, e.body);

  // A replacement is seen.
  store->Put("k1", MakeEntry("second"), seconds(60));
  const auto replaced = PollBody(*store, "k1", "second");
  ASSERT_TRUE(replaced.has_value());
  EXPECT_EQ(replaced->body, "second");
}

TEST(RedisStoreTest, TtlIsHonoured) {
  RedisServer& server = SharedRedisServer();
  const auto config = Config(server.url());
  auto store = Open(config);
  ASSERT_NE(store, nullptr);
  store->Put("k", MakeEntry("short-lived"), seconds(1));
  const auto put_seen = steady_clock::now();
  ASSERT_TRUE(PollGet(*store, "k").has_value());
  const auto pttl = server.Command({"PTTL", config.key_prefix + "cache:k"});
  ASSERT_TRUE(pttl.has_value()) << pttl.error().message;
  const long long left_ms = std::stoll(*pttl);
  EXPECT_GT(left_ms, 0);
  EXPECT_LE(left_ms, 1'000);
  std::this_thread::sleep_until(put_seen + milliseconds(1'200));
  EXPECT_FALSE(GetNow(*store, "k").has_value());
  EXPECT_EQ(Text(server.Command({"EXISTS", config.key_prefix + "cache:k"})), "0");
}

TEST(RedisStoreTest, ReplicasShareEntries) {
  const auto config = Config(SharedRedisServer().url());
  auto a = Open(config);
  auto b = Open(config);
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  a->Put("from-a", MakeEntry("written by a"), seconds(60));
  b->Put("from-b", MakeEntry("written by b"), seconds(60));
  const auto seen_by_b = PollGet(*b, "from-a");
  ASSERT_TRUE(seen_by_b.has_value());
  EXPECT_EQ(seen_by_b->body, "written by a");
  const auto seen_by_a = PollGet(*a, "from-b");
  ASSERT_TRUE(seen_by_a.has_value());
  EXPECT_EQ(seen_by_a->body, "written by b");

  // Another prefix (another deployment on the same Redis) shares nothing.
  auto other = Open(Config(SharedRedisServer().url()));
  ASSERT_NE(other, nullptr);
  EXPECT_FALSE(GetNow(*other, "from-a").has_value());
}

// A value that is not ours (another format, another type) is a miss, and the link stays up.
TEST(RedisStoreTest, ForeignValuesAreMisses) {
  RedisServer& server = SharedRedisServer();
  const auto config = Config(server.url());
  auto store = Open(config);
  ASSERT_NE(store, nullptr);
  ASSERT_EQ(Text(server.Command({"SET", config.key_prefix + "cache:garbage", "\x01zz"})), "OK");
  ASSERT_EQ(Text(server.Command({"RPUSH", config.key_prefix + "cache:list", "x"})), "1");
  EXPECT_FALSE(GetNow(*store, "garbage").has_value());
  EXPECT_FALSE(GetNow(*store, "list").has_value());
  // Still working: the next Put and Get go through without a second's pause.
  store->Put("k", MakeEntry("fine"), seconds(60));
  EXPECT_TRUE(PollGet(*store, "k", milliseconds(500)).has_value());
}

TEST(RedisStoreTest, OversizedEntriesAreNotStored) {
  const auto config = Config(SharedRedisServer().url());
  auto store = Open(config);
  ASSERT_NE(store, nullptr);
  store->Put("big", MakeEntry(std::string(kMaxEntryBytes, 'x')), seconds(60));
  store->Put("small", MakeEntry("x"), seconds(60));  // queued after: once seen, big was dropped
  ASSERT_TRUE(PollGet(*store, "small").has_value());
  EXPECT_FALSE(GetNow(*store, "big").has_value());
}

// A slow Redis must not keep a request waiting behind the SETs queued before its GET (each up
// to kMaxEntryBytes, each bounded only by the timeout): the GET goes ahead of them. Redis holds
// writes (CLIENT PAUSE WRITE) while the SETs queue behind the first, and resumes them once the
// GET is queued too; the GET then finds the value that the last SET, queued before it, replaces.
TEST(RedisStoreTest, GetGoesAheadOfQueuedSets) {
  auto started = RedisServer::Start();
  ASSERT_TRUE(started.has_value()) << started.error().message;
  std::unique_ptr<RedisServer> server = std::move(*started);
  auto config = Config(server->url());
  config.timeout = seconds(30);  // nothing here may time out, however loaded the machine
  auto store = Open(config);
  ASSERT_NE(store, nullptr);
  store->Put("k", MakeEntry("before"), seconds(60));
  ASSERT_TRUE(PollGet(*store, "k").has_value());

  ASSERT_EQ(Text(server->Command({"CLIENT", "PAUSE", "30000", "WRITE"})), "OK");
  constexpr int kSets = 32;
  for (int i = 0; i < kSets; ++i) {
    store->Put("big" + std::to_string(i), MakeEntry(std::string(512 * 1024, 'x')), seconds(60));
  }
  store->Put("k", MakeEntry("after"), seconds(60));
  auto get = [&]() -> http::Task<std::optional<Entry>> {
    // Runs once this coroutine waits in Get (it runs until it suspends), its GET queued.
    auto executor = co_await boost::asio::this_coro::executor;
    boost::asio::post(executor, [&] {
      EXPECT_EQ(Text(server->Command({"CLIENT", "UNPAUSE"})), "OK");
    });
    co_return co_await store->Get("k");
  };
  const auto found = testutil::RunTask(get());
  ASSERT_TRUE(found.has_value());    // it ran: a GET skipped or failed is a miss
  EXPECT_EQ(found->body, "before");  // ahead of the SET queued before it
  // The SETs run after it, none dropped.
  EXPECT_TRUE(PollGet(*store, "big" + std::to_string(kSets - 1)).has_value());
  const auto replaced = PollBody(*store, "k", "after", seconds(5));
  ASSERT_TRUE(replaced.has_value());
  EXPECT_EQ(replaced->body, "after");
  store.reset();  // before the server: the destructor drains its queue
}

TEST(RedisStoreTest, StoppedRedisIsACacheThatMisses) {
  auto started = RedisServer::Start();
  ASSERT_TRUE(started.has_value()) << started.error().message;
  std::unique_ptr<RedisServer> server = std::move(*started);
  auto store = Open(Config(server->url()));
  ASSERT_NE(store, nullptr);
  store->Put("k", MakeEntry("before"), seconds(60));
  ASSERT_TRUE(PollGet(*store, "k").has_value());

  ASSERT_TRUE(server->Stop().has_value());
  auto begin = steady_clock::now();
  EXPECT_FALSE(GetNow(*store, "k").has_value());  // the connection breaks: a miss
  EXPECT_LT(steady_clock::now() - begin, seconds(1));
  begin = steady_clock::now();
  EXPECT_FALSE(GetNow(*store, "k").has_value());  // down: answered at once, nothing queued
  EXPECT_LT(steady_clock::now() - begin, milliseconds(100));
  begin = steady_clock::now();
  for (int i = 0; i < 1'000; ++i) store->Put("p" + std::to_string(i), MakeEntry("x"), seconds(60));
  EXPECT_LT(steady_clock::now() - begin, milliseconds(500));

  // Back (empty, as a restarted Redis is): used again once the link's second is over.
  ASSERT_TRUE(server->Restart().has_value());
  const auto deadline = steady_clock::now() + seconds(5);
  std::optional<Entry> hit;
  while (!hit && steady_clock::now() < deadline) {
    store->Put("after", MakeEntry("after"), seconds(60));
    hit = PollGet(*store, "after", milliseconds(200));
  }
  ASSERT_TRUE(hit.has_value());
  EXPECT_EQ(hit->body, "after");
  store.reset();  // before the server: the destructor drains its queue
}

TEST(RedisStoreTest, MalformedUrlIsRefused) {
  auto config = Config("http://127.0.0.1:6379");
  const auto opened = RedisStore(config);
  ASSERT_FALSE(opened.has_value());
  EXPECT_EQ(opened.error().code, core::Errc::kInvalidRequest);
}

}  // namespace
}  // namespace sy::cache
