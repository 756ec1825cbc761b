// http::BlockingPool: a few threads for work that blocks (SQLite reports, admin writes), so that
// the request workers never wait on a disk. A request coroutine awaits Run(); its worker serves
// other connections meanwhile, and the coroutine resumes on its own executor.
//
// The queue is bounded: beyond max_queued jobs waiting or running, Run refuses at once (the
// caller answers 503), so a flood of slow reports cannot grow memory without bound.
//
// Thread-safety: Run may be called from any thread. The destructor finishes running jobs and
// joins; no Run may start during or after it.
// Lifetime: a job's completion is posted to the io_context of the coroutine awaiting it, so that
// io_context must outlive the job: at shutdown, stop the io_contexts, Drain the pool, and only
// then destroy them (a coroutine that never resumes is destroyed with its io_context; the job
// owns its work, so that is safe).
#pragma once

#include <atomic>
#include <functional>
#include <memory>

#include "http/task.h"

namespace sy::http {

class BlockingPool {
 public:
  BlockingPool(int threads, int max_queued);
  ~BlockingPool();
  BlockingPool(const BlockingPool&) = delete;
  BlockingPool& operator=(const BlockingPool&) = delete;

  // Runs `work` on a pool thread; true once it has run, false (not run) when the pool is full.
  // `work` must not throw.
  Task<bool> Run(std::function<void()> work);
  // Queues `work` without waiting for it (a background job); false (not queued) when the pool is
  // full. `work` must not throw.
  bool Post(std::function<void()> work);
  // Waits until every queued and running job has finished; Run and Post must not be called
  // afterwards.
  void Drain();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
  std::atomic<int> queued_{0};
  const int max_queued_;
};

}  // namespace sy::http
