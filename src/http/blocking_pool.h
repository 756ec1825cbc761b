// http::BlockingPool: a few threads for work that blocks (SQLite reports, admin writes, a Redis
// connection), so that the request workers never wait on a disk. A request coroutine awaits Run();
// its worker serves other connections meanwhile, and the coroutine resumes on its own executor.
//
// Two lanes. Run and Post share one first-in, first-out queue, bounded: beyond max_queued jobs
// waiting or running, they refuse at once (the caller answers 503), so a flood of slow reports
// cannot grow memory without bound. RunAhead has a lane of its own, bounded by max_ahead, that a
// free thread empties before it takes the next job of the other: a request waiting for an answer
// goes before background writes (the response cache's GET before its queued SETs). RunAhead is
// opt-in: a pool whose Post jobs must run before a later Run (a write, then a read of it) does not
// use it.
//
// Thread-safety: Run, RunAhead and Post may be called from any thread. The destructor finishes
// the queued and running jobs and joins; no job may be queued during or after it.
// Lifetime: a job's completion is posted to the io_context of the coroutine awaiting it, so that
// io_context must outlive the job: at shutdown, stop the io_contexts, Drain the pool, and only
// then destroy them (a coroutine that never resumes is destroyed with its io_context; the job
// owns its work, so that is safe).
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>

#include "http/task.h"

namespace sy::http {

class BlockingPool {
 public:
  // `max_ahead` bounds RunAhead's lane (jobs waiting or running); 0: RunAhead always refuses.
  BlockingPool(int threads, int max_queued, int max_ahead = 0);
  ~BlockingPool();
  BlockingPool(const BlockingPool&) = delete;
  BlockingPool& operator=(const BlockingPool&) = delete;

  // Runs `work` on a pool thread; true once it has run, false (not run) when the pool is full.
  // `work` must not throw.
  Task<bool> Run(std::function<void()> work);
  // Runs `work` on a pool thread ahead of every job of Run and Post not yet started (among
  // RunAhead jobs, first in, first out); true once it has run. False, without running it, when
  // max_ahead RunAhead jobs are already waiting or running, or when no thread took it within
  // `max_wait` of the call. A job cannot be stopped halfway, so the caller waits at most
  // max_wait plus the longest job that a thread had started by then, plus its own job.
  // `work` must not throw.
  Task<bool> RunAhead(std::function<void()> work, std::chrono::milliseconds max_wait);
  // Queues `work` without waiting for it (a background job); false (not queued) when the pool is
  // full. `work` must not throw.
  bool Post(std::function<void()> work);
  // Waits until every queued and running job has finished; no job may be queued afterwards.
  void Drain();

 private:
  class Impl;
  // Queues `work` in its lane (ahead or not) and resumes once it has run (true), or was skipped
  // for having waited longer than `max_wait`, or refused by a full lane (false).
  Task<bool> Await(std::function<void()> work, bool ahead,
                   std::optional<std::chrono::milliseconds> max_wait);
  std::unique_ptr<Impl> impl_;
};

}  // namespace sy::http
