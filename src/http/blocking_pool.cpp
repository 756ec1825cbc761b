#include "http/blocking_pool.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
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

// Joins here, while queued_ (which posted jobs update) is still alive.
BlockingPool::~BlockingPool() { impl_.reset(); }

Task<bool> BlockingPool::Run(std::function<void()> work) {
  if (queued_.fetch_add(1, std::memory_order_relaxed) >= max_queued_) {
    queued_.fetch_sub(1, std::memory_order_relaxed);
    co_return false;
  }
  // `work` lives in this coroutine's frame until the job has run: this coroutine waits for it.
  // (Moving the parameter into the lambda instead, GCC 12 frees a heap-held callable twice.)
  co_await boost::asio::co_spawn(
      impl_->pool_.get_executor(),
      [&work]() -> Task<void> {
        work();
        co_return;
      },
      boost::asio::use_awaitable);
  queued_.fetch_sub(1, std::memory_order_relaxed);
  co_return true;
}

bool BlockingPool::Post(std::function<void()> work) {
  if (queued_.fetch_add(1, std::memory_order_relaxed) >= max_queued_) {
    queued_.fetch_sub(1, std::memory_order_relaxed);
    return false;
  }
  boost::asio::post(impl_->pool_, [this, work = std::move(work)] {
    work();
    queued_.fetch_sub(1, std::memory_order_relaxed);
  });
  return true;
}

}  // namespace sy::http
