#include "http/blocking_pool.h"

#include <future>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <gtest/gtest.h>

#include "tests/testutil/run_task.h"

namespace sy::http {
namespace {

// Holds a pool thread with a background job, from construction (once the thread has taken it)
// until Release.
class Holder {
 public:
  explicit Holder(BlockingPool& pool) {
    auto started = std::make_shared<std::promise<void>>();
    auto taken = started->get_future();
    auto released = release_.get_future().share();
    EXPECT_TRUE(pool.Post([started, released] {
      started->set_value();
      released.wait();
    }));
    taken.wait();
  }
  void Release() { release_.set_value(); }

 private:
  std::promise<void> release_;
};

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
// be freed once (GCC 12 freed it twice when the job's lambda was a temporary in the co_await's
// arguments; ASan sees that).
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

// At shutdown a coroutine suspended in Run never resumes (its io_context is stopped, then destroyed
// with the coroutine) while its job still runs: the job must own its work (ASan sees a use after
// free otherwise) and still count itself done. Drain waits for it.
TEST(BlockingPoolTest, AJobOutlivesTheCoroutineThatWaitedForIt) {
  BlockingPool pool(1, 2);
  std::promise<void> release;
  auto released = release.get_future().share();
  ASSERT_TRUE(pool.Post([released] { released.wait(); }));
  auto ran = std::make_shared<std::atomic<bool>>(false);
  {
    boost::asio::io_context ioc;
    auto waiter = [&pool, ran]() -> Task<void> {
      std::function<void()> work = [ran] { ran->store(true); };
      (void)co_await pool.Run(std::move(work));
      ADD_FAILURE() << "resumed on a stopped io_context";
    };
    boost::asio::co_spawn(ioc, waiter(), boost::asio::detached);
    ioc.run_for(std::chrono::milliseconds(20));  // now suspended in Run, its job queued
    ioc.stop();
    release.set_value();
    pool.Drain();  // before the io_context goes: the job's completion is posted to it
  }                // the io_context and the suspended coroutine are gone
  EXPECT_TRUE(ran->load());
}

// A client leaving (a terminal cancellation of the awaiting coroutine) does not cut Run short: it
// resumes once its job has run, as if nothing happened.
TEST(BlockingPoolTest, ACancelledWaiterStillWaitsForItsJob) {
  BlockingPool pool(1, 2);
  std::promise<void> started;
  std::promise<void> release;
  auto released = release.get_future().share();
  boost::asio::io_context ioc;
  boost::asio::cancellation_signal cancel;
  bool ran = false;
  bool resumed = false;
  auto waiter = [&]() -> Task<void> {
    resumed = co_await pool.Run([&] {
      started.set_value();
      released.wait();
      ran = true;
    });
  };
  boost::asio::co_spawn(ioc, waiter(),
                        boost::asio::bind_cancellation_slot(cancel.slot(), boost::asio::detached));
  std::thread releaser([&] {
    started.get_future().wait();
    boost::asio::post(ioc, [&] { cancel.emit(boost::asio::cancellation_type::terminal); });
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    release.set_value();
  });
  ioc.run_for(std::chrono::seconds(5));
  releaser.join();
  EXPECT_TRUE(ran);
  EXPECT_TRUE(resumed);
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

// The response cache's GET (RunAhead) must not wait behind the SETs it queued before (Post): a
// free thread takes every RunAhead job before the next job of the other lane.
TEST(BlockingPoolTest, RunAheadGoesBeforeQueuedJobs) {
  BlockingPool pool(1, 8, 8);
  Holder holder(pool);
  std::vector<std::string> order;  // written on the pool's one thread only
  ASSERT_TRUE(pool.Post([&order] { order.emplace_back("post 1"); }));
  ASSERT_TRUE(pool.Post([&order] { order.emplace_back("post 2"); }));
  auto task = [&]() -> Task<bool> {
    // Runs once this coroutine waits in RunAhead (it runs until it suspends), its job queued.
    auto executor = co_await boost::asio::this_coro::executor;
    boost::asio::post(executor, [&] { holder.Release(); });
    co_return co_await pool.RunAhead([&order] { order.emplace_back("ahead"); },
                                     std::chrono::seconds(30));
  };
  EXPECT_TRUE(testutil::RunTask(task()));
  pool.Drain();
  EXPECT_EQ(order, (std::vector<std::string>{"ahead", "post 1", "post 2"}));
}

// Run and Post share one first-in, first-out lane: a Run queued after a Post (a read after a
// write: shared/counters.cpp) runs after it.
TEST(BlockingPoolTest, RunAndPostKeepTheirOrder) {
  BlockingPool pool(1, 8, 8);
  Holder holder(pool);
  std::vector<std::string> order;  // written on the pool's one thread only
  ASSERT_TRUE(pool.Post([&order] { order.emplace_back("post"); }));
  auto task = [&]() -> Task<bool> {
    auto executor = co_await boost::asio::this_coro::executor;
    boost::asio::post(executor, [&] { holder.Release(); });
    co_return co_await pool.Run([&order] { order.emplace_back("run"); });
  };
  EXPECT_TRUE(testutil::RunTask(task()));
  EXPECT_EQ(order, (std::vector<std::string>{"post", "run"}));
}

// A lookup that waited too long is a miss: when a thread takes a RunAhead job later than
// max_wait after the call, it skips it and the caller resumes with false.
TEST(BlockingPoolTest, RunAheadSkipsAJobThatWaitedLongerThanMaxWait) {
  BlockingPool pool(1, 8, 8);
  Holder holder(pool);
  constexpr auto kMaxWait = std::chrono::milliseconds(1);
  bool ran = false;
  auto task = [&]() -> Task<bool> {
    // Once the job is queued (this coroutine suspended), holds the thread until the clock has
    // passed max_wait since then: the job has waited longer, whatever the machine's load.
    auto executor = co_await boost::asio::this_coro::executor;
    boost::asio::post(executor, [&] {
      const auto passed = std::chrono::steady_clock::now() + 2 * kMaxWait;
      while (std::chrono::steady_clock::now() <= passed) std::this_thread::yield();
      holder.Release();
    });
    co_return co_await pool.RunAhead([&ran] { ran = true; }, kMaxWait);
  };
  EXPECT_FALSE(testutil::RunTask(task()));
  EXPECT_FALSE(ran);
  // The pool goes on: a job taken at once runs.
  auto again = [&]() -> Task<bool> {
    co_return co_await pool.RunAhead([&ran] { ran = true; }, std::chrono::seconds(30));
  };
  EXPECT_TRUE(testutil::RunTask(again()));
  EXPECT_TRUE(ran);
}

// Each lane has its own bound: a full lane of background jobs does not refuse a RunAhead, nor a
// full RunAhead lane a Post.
TEST(BlockingPoolTest, EachLaneIsBoundedOnItsOwn) {
  BlockingPool pool(1, 1, 1);
  Holder holder(pool);
  EXPECT_FALSE(pool.Post([] {}));  // the other lane's only slot is taken
  bool first_ran = false;
  bool second_ran = false;
  auto task = [&]() -> Task<bool> {
    auto executor = co_await boost::asio::this_coro::executor;
    // Captures nothing: it outlives this coroutine, which the lambda object is part of.
    auto first = [](BlockingPool& p, bool& ran) -> Task<void> {
      ran = co_await p.RunAhead([] {}, std::chrono::seconds(30));
    };
    boost::asio::co_spawn(executor, first(pool, first_ran), boost::asio::detached);
    // After `first` has queued its job (co_spawn starts it by a post, ahead of this one).
    co_await boost::asio::post(executor, boost::asio::use_awaitable);
    const bool second =
        co_await pool.RunAhead([&] { second_ran = true; }, std::chrono::seconds(30));
    holder.Release();
    co_return second;
  };
  EXPECT_FALSE(testutil::RunTask(task()));  // RunAhead's only slot is taken by `first`
  EXPECT_FALSE(second_ran);
  pool.Drain();
  EXPECT_TRUE(first_ran);
}

TEST(BlockingPoolTest, RunAheadRefusesInAPoolWithoutItsLane) {
  BlockingPool pool(1, 8);
  bool ran = false;
  auto task = [&]() -> Task<bool> {
    co_return co_await pool.RunAhead([&ran] { ran = true; }, std::chrono::seconds(30));
  };
  EXPECT_FALSE(testutil::RunTask(task()));
  EXPECT_FALSE(ran);
}

}  // namespace
}  // namespace sy::http
