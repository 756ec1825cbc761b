#include "http/detail/deadline.h"

#include <chrono>
#include <optional>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/error.hpp>
#include <gtest/gtest.h>

namespace sy::http::detail {
namespace {

namespace net = boost::asio;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

// Two connected loopback sockets and a pending read on one of them, timed from its start.
class DeadlineTest : public ::testing::Test {
 protected:
  DeadlineTest() : acceptor_(ioc_, tcp::endpoint(net::ip::make_address("127.0.0.1"), 0)) {
    client_.connect(acceptor_.local_endpoint());
    acceptor_.accept(server_);
  }

  // Starts a read on the server side; its outcome lands in read_ec_ and read_at_.
  void StartRead() {
    read_ec_.reset();
    server_.async_read_some(net::buffer(&byte_, 1), [this](boost::system::error_code ec, size_t) {
      read_ec_ = ec;
      read_at_ = Clock::now();
    });
  }

  // Runs the loop until the read completes or `limit` passes.
  void RunUntilRead(std::chrono::milliseconds limit) {
    ioc_.restart();
    const auto until = Clock::now() + limit;
    while (!read_ec_ && Clock::now() < until) ioc_.run_for(5ms);
  }

  // Lets `deadline` pass with a read pending, which it cancels.
  void PassWithAReadPending(Deadline& deadline, std::chrono::milliseconds after) {
    deadline.ExpireAfter(after);
    StartRead();
    RunUntilRead(5s);
    ASSERT_TRUE(deadline.expired());
  }

  net::io_context ioc_;
  tcp::acceptor acceptor_;
  tcp::socket client_{ioc_};
  tcp::socket server_{ioc_};
  char byte_ = 0;
  std::optional<boost::system::error_code> read_ec_;
  Clock::time_point read_at_;
};

TEST_F(DeadlineTest, CancelsThePendingReadWhenItPasses) {
  Deadline deadline(server_);
  const auto start = Clock::now();
  deadline.ExpireAfter(50ms);
  StartRead();
  RunUntilRead(5s);
  ASSERT_TRUE(read_ec_);
  EXPECT_EQ(*read_ec_, net::error::operation_aborted);
  EXPECT_TRUE(deadline.expired());
  EXPECT_GE(read_at_ - start, 50ms);
  EXPECT_LT(read_at_ - start, 2s);
  // Settled, the cancelled read reads as a timeout, and the deadline is gone.
  EXPECT_EQ(deadline.Settle(*read_ec_), boost::beast::error::timeout);
  EXPECT_FALSE(deadline.expired());
  EXPECT_FALSE(deadline.Settle({}));
}

TEST_F(DeadlineTest, MovedLaterItCancelsAtTheLaterTime) {
  Deadline deadline(server_);
  const auto start = Clock::now();
  deadline.ExpireAfter(30ms);
  deadline.ExpireAfter(150ms);  // what every request does: a store, no new wait
  StartRead();
  RunUntilRead(5s);
  ASSERT_TRUE(read_ec_);
  EXPECT_EQ(*read_ec_, net::error::operation_aborted);
  EXPECT_GE(read_at_ - start, 150ms);
}

TEST_F(DeadlineTest, MovedEarlierItCancelsAtTheEarlierTime) {
  Deadline deadline(server_);
  const auto start = Clock::now();
  deadline.ExpireAfter(60s);
  deadline.ExpireAfter(40ms);
  StartRead();
  RunUntilRead(5s);
  ASSERT_TRUE(read_ec_);
  EXPECT_EQ(*read_ec_, net::error::operation_aborted);
  EXPECT_GE(read_at_ - start, 40ms);
  EXPECT_LT(read_at_ - start, 2s);
}

TEST_F(DeadlineTest, ClearedItCancelsNothing) {
  Deadline deadline(server_);
  deadline.ExpireAfter(30ms);
  deadline.Clear();
  StartRead();
  RunUntilRead(200ms);
  EXPECT_FALSE(read_ec_);  // still pending past the old deadline
  EXPECT_FALSE(deadline.expired());
  net::write(client_, net::buffer("x", 1));
  RunUntilRead(5s);
  ASSERT_TRUE(read_ec_);
  EXPECT_FALSE(*read_ec_);
}

TEST_F(DeadlineTest, AReadStartedAfterItPassedIsCancelledToo) {
  Deadline deadline(server_);
  ASSERT_NO_FATAL_FAILURE(PassWithAReadPending(deadline, 20ms));
  // A read that began after the expiry (as one can, between a posted completion and its
  // handler) is not left waiting without a limit.
  const auto start = Clock::now();
  StartRead();
  RunUntilRead(5s);
  ASSERT_TRUE(read_ec_);
  EXPECT_EQ(*read_ec_, net::error::operation_aborted);
  EXPECT_LE(read_at_ - start, Deadline::kRecancel + 1s);
}

TEST_F(DeadlineTest, ANewDeadlineForgetsTheExpiry) {
  Deadline deadline(server_);
  ASSERT_NO_FATAL_FAILURE(PassWithAReadPending(deadline, 10ms));
  deadline.ExpireAfter(10s);
  EXPECT_FALSE(deadline.expired());
  StartRead();
  RunUntilRead(3 * Deadline::kRecancel);
  EXPECT_FALSE(read_ec_);  // the re-cancelling stopped with the new deadline
}

TEST_F(DeadlineTest, DestroyedWithAWaitPendingItLeavesTheSocketAlone) {
  {
    Deadline deadline(server_);
    deadline.ExpireAfter(20ms);
  }
  StartRead();
  RunUntilRead(150ms);
  EXPECT_FALSE(read_ec_);
  net::write(client_, net::buffer("x", 1));
  RunUntilRead(5s);
  ASSERT_TRUE(read_ec_);
  EXPECT_FALSE(*read_ec_);
}

}  // namespace
}  // namespace sy::http::detail
