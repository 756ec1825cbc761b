#include "http/blocking_pool.h"

#include <future>
#include <thread>

#include <boost/asio/detached.hpp>
#include <boost/asio/this_coro.hpp>
#include <gtest/gtest.h>

#include "tests/testutil/run_task.h"

namespace sy::http {
namespace {

TEST(BlockingPoolTest, RunsOffTheCallersThreadAndResumesOnIt) {
  BlockingPool pool(2, 8);
  const auto caller = std::this_thread::get_id();
  std::thread::id worker;
  auto task = [&]() -> Task<std::thread::id> {
    const bool ran = co_await pool.Run([&] { worker = std::this_thread::get_id(); });
    EXPECT_TRUE(ran);
    co_return std::this_thread::get_id();
  };
  EXPECT_EQ(testutil::RunTask(task()), caller);
  EXPECT_NE(worker, caller);
  EXPECT_NE(worker, std::thread::id());
}

TEST(BlockingPoolTest, RefusesBeyondItsQueueWithoutRunning) {
  BlockingPool pool(1, 1);
  std::promise<void> release;
  auto released = release.get_future().share();
  std::promise<void> started;
  bool second_ran = false;
  auto task = [&]() -> Task<bool> {
    // The first job holds the only slot until the second has been refused.
    auto first = [&]() -> Task<bool> {
      co_return co_await pool.Run([&] {
        started.set_value();
        released.wait();
      });
    };
    auto executor = co_await boost::asio::this_coro::executor;
    boost::asio::co_spawn(executor, first(), boost::asio::detached);
    started.get_future().wait();
    const bool second = co_await pool.Run([&] { second_ran = true; });
    release.set_value();
    co_return second;
  };
  EXPECT_FALSE(testutil::RunTask(task()));
  EXPECT_FALSE(second_ran);
}

// A callable too large for std::function's inline buffer lives on the heap: it must run once and
// be freed once (GCC 12 freed it twice when Run moved it into the job's lambda; ASan sees that).
TEST(BlockingPoolTest, RunsAHeapHeldCallableOnceAndFreesItOnce) {
  BlockingPool pool(1, 8);
  int runs = 0;
  const std::string a = "a";
  const std::string b = "b";
  std::string seen;
  auto task = [&]() -> Task<bool> {
    co_return co_await pool.Run([&runs, &seen, &a, &b] {
      ++runs;
      seen = a + b;
    });
  };
  EXPECT_TRUE(testutil::RunTask(task()));
  EXPECT_EQ(runs, 1);
  EXPECT_EQ(seen, "ab");
}

TEST(BlockingPoolTest, PostRunsInTheBackgroundAndCountsAgainstTheQueue) {
  std::promise<void> ran;
  {
    BlockingPool pool(1, 1);
    std::promise<void> release;
    auto released = release.get_future().share();
    EXPECT_TRUE(pool.Post([released] { released.wait(); }));
    EXPECT_FALSE(pool.Post([] {}));  // the only slot is taken
    release.set_value();
    // The destructor runs what was queued before it.
    EXPECT_TRUE(pool.Post([&ran] { ran.set_value(); }) ||
                (std::this_thread::sleep_for(std::chrono::milliseconds(50)),
                 pool.Post([&ran] { ran.set_value(); })));
  }
  EXPECT_EQ(ran.get_future().wait_for(std::chrono::seconds(0)), std::future_status::ready);
}

}  // namespace
}  // namespace sy::http
