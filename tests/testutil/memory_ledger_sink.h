// MemoryLedgerSink: a ledger::Sink that keeps records in memory, for tests of modules that
// record requests (failover, app). Header-only.
//
// Thread-safety: Append, Records and WaitFor may be called concurrently from any threads.
// Append never blocks beyond a short mutex hold and never drops a record.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <utility>
#include <vector>

#include "ledger/record.h"
#include "ledger/sink.h"

namespace sy::testutil {

class MemoryLedgerSink final : public ledger::Sink {
 public:
  void Append(ledger::Record&& record) override {
    {
      std::lock_guard lock(mu_);
      records_.push_back(std::move(record));
    }
    cv_.notify_all();
  }

  // A copy of every record appended so far, in append order.
  std::vector<ledger::Record> Records() const {
    std::lock_guard lock(mu_);
    return records_;
  }

  size_t size() const {
    std::lock_guard lock(mu_);
    return records_.size();
  }

  // Blocks until at least `n` records were appended or `timeout` passed; true when they were.
  // For records appended from another thread (the request path) after the caller's action.
  bool WaitFor(size_t n, std::chrono::milliseconds timeout) const {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return records_.size() >= n; });
  }

 private:
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  std::vector<ledger::Record> records_;  // guarded by mu_
};

}  // namespace sy::testutil
