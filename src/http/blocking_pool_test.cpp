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

}  // namespace
}  // namespace sy::http
