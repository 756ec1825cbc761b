#include "http/blocking_pool.h"

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/execution/outstanding_work.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/prefer.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace sy::http {

namespace {

using Clock = std::chrono::steady_clock;

struct Job {
  std::function<void()> work;
  std::function<void(bool)> done;  // told whether `work` ran; empty for Post
  Clock::time_point queued_at;
  std::optional<std::chrono::milliseconds> max_wait;  // RunAhead's: skipped when waited longer
};

// What a job tells the coroutine awaiting it: the handler is resumed on its own executor, which
// counts the job as outstanding work meanwhile (its io_context's run() does not return while
// the job waits). Held in a shared_ptr, as the handler is move-only and std::function is not.
template <typename Handler>
std::function<void(bool)> Completion(Handler handler) {
  auto executor = boost::asio::prefer(boost::asio::get_associated_executor(handler),
                                      boost::asio::execution::outstanding_work.tracked);
  auto held = std::make_shared<Handler>(std::move(handler));
  return [held = std::move(held), executor = std::move(executor)](bool ran) {
    boost::asio::post(executor, [held, ran] {
      Handler resumed = std::move(*held);
      resumed(ran);
    });
  };
}

}  // namespace

class BlockingPool::Impl {
 public:
  Impl(int threads, int max_queued, int max_ahead)
      : max_queued_(max_queued), max_ahead_(max_ahead) {
    for (int i = 0; i < threads; ++i) threads_.emplace_back([this] { Loop(); });
  }
  ~Impl() { Drain(); }
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;

  // Queues `job` in its lane, where it holds a slot until it has finished; false (`job` left as
  // it was) when the lane is full.
  bool Push(Job& job, bool ahead) {
    {
      const std::scoped_lock lock(mu_);
      int& count = ahead ? ahead_count_ : queued_count_;
      if (count >= (ahead ? max_ahead_ : max_queued_)) return false;
      ++count;
      (ahead ? ahead_ : queued_).push_back(std::move(job));
    }
    ready_.notify_one();
    return true;
  }

  void Drain() {
    {
      const std::scoped_lock lock(mu_);
      draining_ = true;
    }
    ready_.notify_all();
    for (std::thread& t : threads_) {
      if (t.joinable()) t.join();
    }
  }

 private:
  // A pool thread: the oldest job ahead, else the oldest of the other lane; returns once
  // draining and both lanes are empty.
  void Loop() {
    std::unique_lock lock(mu_);
    while (true) {
      ready_.wait(lock, [this] { return draining_ || !ahead_.empty() || !queued_.empty(); });
      if (ahead_.empty() && queued_.empty()) return;
      const bool ahead = !ahead_.empty();
      std::deque<Job>& lane = ahead ? ahead_ : queued_;
      Job job = std::move(lane.front());
      lane.pop_front();
      lock.unlock();
      Finish(std::move(job));
      lock.lock();
      --(ahead ? ahead_count_ : queued_count_);
    }
  }

  static void Finish(Job job) {
    const bool run = !job.max_wait || Clock::now() - job.queued_at <= *job.max_wait;
    if (run) job.work();
    if (job.done) job.done(run);
  }  // the job's work (and what it holds) is freed here, outside the lock

  const int max_queued_;
  const int max_ahead_;
  std::mutex mu_;
  std::condition_variable ready_;
  std::deque<Job> ahead_;   // RunAhead's lane
  std::deque<Job> queued_;  // Run's and Post's
  int ahead_count_ = 0;     // RunAhead jobs waiting or running
  int queued_count_ = 0;    // Run and Post jobs waiting or running
  bool draining_ = false;
  std::vector<std::thread> threads_;  // last: started once the rest is built
};

BlockingPool::BlockingPool(int threads, int max_queued, int max_ahead)
    : impl_(std::make_unique<Impl>(threads, max_queued, max_ahead)) {}

BlockingPool::~BlockingPool() = default;

void BlockingPool::Drain() { impl_->Drain(); }

Task<bool> BlockingPool::Run(std::function<void()> work) {
  co_return co_await Await(std::move(work), /*ahead=*/false, std::nullopt);
}

Task<bool> BlockingPool::RunAhead(std::function<void()> work, std::chrono::milliseconds max_wait) {
  co_return co_await Await(std::move(work), /*ahead=*/true, max_wait);
}

Task<bool> BlockingPool::Await(std::function<void()> work, bool ahead,
                               std::optional<std::chrono::milliseconds> max_wait) {
  // A job cannot be stopped halfway, so a cancellation of the awaiting coroutine (its client
  // left, shutdown) is not passed on: it waits for the job, which is bounded.
  auto uncancellable = boost::asio::bind_cancellation_slot(boost::asio::cancellation_slot(),
                                                           boost::asio::use_awaitable);
  // The lane's slot is taken where the job is queued, so no path holds one without a job to
  // free it.
  Impl* impl = impl_.get();
  auto initiation = [impl, &work, ahead, max_wait](auto handler) {
    Job job{std::move(work), Completion(std::move(handler)), Clock::now(), max_wait};
    if (!impl->Push(job, ahead)) job.done(false);  // the lane is full: not run
  };
  // Named, not temporaries in the co_await's arguments: GCC 12 destroys such temporaries twice
  // (it freed a heap-held callable twice here).
  auto job = boost::asio::async_initiate<decltype(uncancellable), void(bool)>(std::move(initiation),
                                                                              uncancellable);
  const bool ran = co_await std::move(job);
  co_return ran;
}

bool BlockingPool::Post(std::function<void()> work) {
  Job job{std::move(work), {}, Clock::now(), std::nullopt};
  return impl_->Push(job, /*ahead=*/false);
}

}  // namespace sy::http
