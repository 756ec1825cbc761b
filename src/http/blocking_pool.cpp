#include "http/blocking_pool.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace sy::http {

class BlockingPool::Impl {
 public:
  explicit Impl(int threads) : pool_(static_cast<size_t>(threads)) {}
  ~Impl() { pool_.join(); }
  boost::asio::thread_pool pool_;
};

BlockingPool::BlockingPool(int threads, int max_queued)
    : impl_(std::make_unique<Impl>(threads)), max_queued_(max_queued) {}

BlockingPool::~BlockingPool() = default;

Task<bool> BlockingPool::Run(std::function<void()> work) {
  if (queued_.fetch_add(1, std::memory_order_relaxed) >= max_queued_) {
    queued_.fetch_sub(1, std::memory_order_relaxed);
    co_return false;
  }
  // co_spawn keeps the lambda (and so `work`) alive until it has run; use_awaitable resumes
  // this coroutine on its own executor afterwards.
  co_await boost::asio::co_spawn(
      impl_->pool_.get_executor(),
      [work = std::move(work)]() -> Task<void> {
        work();
        co_return;
      },
      boost::asio::use_awaitable);
  queued_.fetch_sub(1, std::memory_order_relaxed);
  co_return true;
}

}  // namespace sy::http
