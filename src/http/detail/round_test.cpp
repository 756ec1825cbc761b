#include "http/detail/round.h"

#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>

namespace sy::http::detail {
namespace {

namespace net = boost::asio;

TEST(WorkerLoadTest, AWriteWaitsForTheRoundOnlyWhenAnotherRequestCouldShareIt) {
  WorkerLoad load;
  EXPECT_FALSE(load.Shared());
  load.handling = 1;  // the writer's own request: nothing to share the round with
  EXPECT_FALSE(load.Shared());
  load.handling = 2;
  EXPECT_TRUE(load.Shared());
}

// What was queued before the wait runs first; what is queued while the coroutine waits runs
// after it: the wait is one pass over the queue, not until the queue is empty.
TEST(AfterReadyWorkTest, ResumesOnceTheCompletionsAlreadyQueuedHaveRun) {
  net::io_context ioc;
  std::vector<std::string> order;
  net::post(ioc, [&] { order.push_back("queued before"); });
  net::co_spawn(
      ioc,
      [&]() -> net::awaitable<void> {
        order.push_back("writer");
        net::post(ioc, [&] { order.push_back("queued by the writer"); });
        co_await AfterReadyWork(ioc.get_executor());
        order.push_back("writer resumed");
        net::post(ioc, [&] { order.push_back("queued after"); });
      },
      net::detached);
  ioc.run();
  EXPECT_EQ(order, (std::vector<std::string>{"queued before", "writer", "queued by the writer",
                                             "writer resumed", "queued after"}));
}

}  // namespace
}  // namespace sy::http::detail
