#include "http/blocking_pool.h"

#include <memory>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
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

void BlockingPool::Drain() { impl_->pool_.join(); }

namespace {

// The job co_spawned on the pool: it owns the work (a coroutine waiting in Run may be destroyed
// before the job has run, when its io_context shuts down) and counts it done.
auto Job(std::shared_ptr<std::function<void()>> work, std::atomic<int>* queued) {
  return [work = std::move(work), queued]() -> Task<void> {
    (*work)();
    queued->fetch_sub(1, std::memory_order_relaxed);
    co_return;
  };
}

}  // namespace

Task<bool> BlockingPool::Run(std::function<void()> work) {
  if (queued_.fetch_add(1, std::memory_order_relaxed) >= max_queued_) {
    queued_.fetch_sub(1, std::memory_order_relaxed);
    co_return false;
  }
  // Named, not a temporary in the co_await's arguments: GCC 12 destroys such temporaries twice
  // (it freed a heap-held callable twice here).
  auto job = Job(std::make_shared<std::function<void()>>(std::move(work)), &queued_);
  // A job cannot be stopped halfway, so a cancellation of the awaiting coroutine (its client
  // left, shutdown) is not passed on: it waits for the job, which is bounded. (Passed on,
  // co_spawn's cancellation handler could run after this frame was gone.)
  auto uncancellable = boost::asio::bind_cancellation_slot(boost::asio::cancellation_slot(),
                                                           boost::asio::use_awaitable);
  co_await boost::asio::co_spawn(impl_->pool_.get_executor(), std::move(job), uncancellable);
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
