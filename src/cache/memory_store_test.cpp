#include "cache/detail/memory_store.h"

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "cache/cache.h"
#include "tests/testutil/run_task.h"

namespace sy::cache {
namespace {

using std::chrono::seconds;

Entry MakeEntry(std::string body) {
  Entry e;
  e.body = std::move(body);
  e.model = "m";
  e.provider = "p";
  e.stored_at_ms = 42;
  return e;
}

std::optional<Entry> GetNow(Store& store, std::string key) {
  return testutil::RunTask(store.Get(std::move(key)));
}

// A clock the test moves by hand.
struct FakeSteady {
  std::chrono::steady_clock::time_point now{std::chrono::hours(1)};
  detail::SteadyNow fn() {
    return [this] { return now; };
  }
};

TEST(MemoryStoreTest, HitAfterPutMissForAnotherKey) {
  auto store = MemoryStore(1 << 20);
  Entry e = MakeEntry("data: x\n\n");
  e.stream = true;
  store->Put("k1", e, seconds(60));
  const auto hit = GetNow(*store, "k1");
  ASSERT_TRUE(hit.has_value());
  EXPECT_TRUE(hit->stream);
  EXPECT_EQ(hit->body, "data: x\n\n");
  EXPECT_EQ(hit->model, "m");
  EXPECT_EQ(hit->provider, "p");
  EXPECT_EQ(hit->stored_at_ms, 42);
  EXPECT_FALSE(GetNow(*store, "k2").has_value());
}

TEST(MemoryStoreTest, ExpiresAfterTtl) {
  FakeSteady clock;
  auto store = detail::MemoryStoreWithClock(1 << 20, clock.fn());
  store->Put("k", MakeEntry("a"), seconds(10));
  clock.now += std::chrono::milliseconds(9'999);
  EXPECT_TRUE(GetNow(*store, "k").has_value());
  clock.now += std::chrono::milliseconds(1);
  EXPECT_FALSE(GetNow(*store, "k").has_value());
  // Expired and erased: a later Put of the same key starts afresh.
  store->Put("k", MakeEntry("b"), seconds(10));
  EXPECT_EQ(GetNow(*store, "k")->body, "b");
}

TEST(MemoryStoreTest, ZeroTtlStoresNothing) {
  auto store = MemoryStore(1 << 20);
  store->Put("k", MakeEntry("a"), seconds(0));
  EXPECT_FALSE(GetNow(*store, "k").has_value());
}

TEST(MemoryStoreTest, EvictsLeastRecentlyUsedByBytes) {
  const size_t each = detail::MemoryBytes("k1", MakeEntry("0123456789"));
  auto store = MemoryStore(3 * each);  // room for three such entries
  store->Put("k1", MakeEntry("0123456789"), seconds(60));
  store->Put("k2", MakeEntry("0123456789"), seconds(60));
  store->Put("k3", MakeEntry("0123456789"), seconds(60));
  EXPECT_TRUE(GetNow(*store, "k1").has_value());  // k1 is now the most recent: k2 is oldest
  store->Put("k4", MakeEntry("0123456789"), seconds(60));
  EXPECT_FALSE(GetNow(*store, "k2").has_value());
  EXPECT_TRUE(GetNow(*store, "k1").has_value());
  EXPECT_TRUE(GetNow(*store, "k3").has_value());
  EXPECT_TRUE(GetNow(*store, "k4").has_value());
  // The Gets above left k4, k3, k1 from most to least recent. A larger entry evicts as many as
  // it needs from the least recent: k1, then k3.
  store->Put("k5", MakeEntry(std::string(10 + each, 'x')), seconds(60));
  EXPECT_FALSE(GetNow(*store, "k1").has_value());
  EXPECT_FALSE(GetNow(*store, "k3").has_value());
  EXPECT_TRUE(GetNow(*store, "k4").has_value());
  EXPECT_TRUE(GetNow(*store, "k5").has_value());
}

TEST(MemoryStoreTest, OversizedEntriesAreIgnored) {
  auto big = MemoryStore(4 * kMaxEntryBytes);
  big->Put("k", MakeEntry(std::string(kMaxEntryBytes, 'x')), seconds(60));  // + model, provider
  EXPECT_FALSE(GetNow(*big, "k").has_value());
  big->Put("k", MakeEntry(std::string(kMaxEntryBytes - 2, 'x')), seconds(60));  // exactly the max
  EXPECT_TRUE(GetNow(*big, "k").has_value());

  // Larger than the whole store: ignored, and nothing is evicted for it.
  auto small = MemoryStore(1000);
  small->Put("a", MakeEntry("a"), seconds(60));
  small->Put("k", MakeEntry(std::string(1000, 'x')), seconds(60));
  EXPECT_FALSE(GetNow(*small, "k").has_value());
  EXPECT_TRUE(GetNow(*small, "a").has_value());
}

TEST(MemoryStoreTest, ReplaceUpdatesBytes) {
  const size_t small_bytes = detail::MemoryBytes("k1", MakeEntry("s"));
  const size_t big_bytes = detail::MemoryBytes("k1", MakeEntry(std::string(500, 'x')));
  auto store = MemoryStore(big_bytes + small_bytes);
  store->Put("k1", MakeEntry(std::string(500, 'x')), seconds(60));
  store->Put("k2", MakeEntry("s"), seconds(60));  // exactly full
  EXPECT_TRUE(GetNow(*store, "k1").has_value());
  EXPECT_TRUE(GetNow(*store, "k2").has_value());
  // k1 shrinks: its old size is no longer counted, so k3 fits beside k1 and k2.
  store->Put("k1", MakeEntry("s"), seconds(60));
  EXPECT_EQ(GetNow(*store, "k1")->body, "s");
  store->Put("k3", MakeEntry(std::string(400, 'y')), seconds(60));
  EXPECT_TRUE(GetNow(*store, "k1").has_value());
  EXPECT_TRUE(GetNow(*store, "k2").has_value());
  EXPECT_TRUE(GetNow(*store, "k3").has_value());
  // k1 grows back: k3 and k2 (least recent first) must both go to make room.
  store->Put("k1", MakeEntry(std::string(500, 'x')), seconds(60));
  EXPECT_FALSE(GetNow(*store, "k2").has_value());
  EXPECT_FALSE(GetNow(*store, "k3").has_value());
  EXPECT_EQ(GetNow(*store, "k1")->body, std::string(500, 'x'));
}

// Many threads at once on a store small enough to evict all the time: no crash, no corruption
// (run under ASan; every hit is an entry some thread put under that key).
TEST(MemoryStoreTest, ConcurrentGetsAndPuts) {
  auto store = MemoryStore(20 * detail::MemoryBytes("k00", MakeEntry("k00")));
  std::atomic<int> hits{0};
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 2'000; ++i) {
        const std::string key = "k" + std::to_string((i * 7 + t) % 50);
        if ((i + t) % 3 == 0) {
          store->Put(key, MakeEntry(key), seconds(60));
        } else if (auto hit = GetNow(*store, key)) {
          ++hits;
          if (hit->body != key) ++wrong;
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_GT(hits.load(), 0);
  EXPECT_EQ(wrong.load(), 0);
}

}  // namespace
}  // namespace sy::cache
