#include "ledger/sqlite_ledger.h"

#include <algorithm>
#include <cstdio>
#include <exception>
#include <iterator>
#include <optional>
#include <utility>

#include "core/thread_name.h"
#include "ledger/detail/schema.h"
#include "ledger/detail/sqlite.h"

namespace sy::ledger {
namespace {

using Clock = std::chrono::steady_clock;
constexpr std::chrono::milliseconds kFirstBackoff{10};
// About 100 µs of inserts between yields on a slow core: a syscall per few rows.
constexpr size_t kYieldEveryRecords = 4;

// A small, stable per-thread number: a producer always lands on the same shard.
size_t ThisThreadIndex() {
  static std::atomic<size_t> next{0};
  thread_local const size_t index = next.fetch_add(1, std::memory_order_relaxed);
  return index;
}

size_t ShardCount() {
  const unsigned cores = std::thread::hardware_concurrency();
  return std::clamp<size_t>(cores, 4, 64);
}

}  // namespace

core::Result<std::unique_ptr<SqliteLedger>> SqliteLedger::Open(const Options& options) {
  if (options.batch_size == 0 || options.wake_records == 0 || options.queue_capacity == 0 ||
      options.flush_interval.count() <= 0) {
    return core::MakeError(core::Errc::kInvalidRequest,
                           "ledger options: batch_size, wake_records, queue_capacity and "
                           "flush_interval must be positive");
  }
  auto db = detail::OpenForWriting(options.path, options.busy_timeout);
  if (!db) return std::move(db).error();
  auto owned_db = std::make_unique<detail::Db>(std::move(*db));
  auto writer = detail::RecordWriter::Create(*owned_db);
  if (!writer) return detail::WithPath(options.path, std::move(writer).error());
  auto owned_writer = std::make_unique<detail::RecordWriter>(std::move(*writer));
  return std::unique_ptr<SqliteLedger>(
      new SqliteLedger(options, std::move(owned_db), std::move(owned_writer)));
}

SqliteLedger::SqliteLedger(Options options, std::unique_ptr<detail::Db> db,
                           std::unique_ptr<detail::RecordWriter> writer)
    : options_(std::move(options)),
      db_(std::move(db)),
      writer_(std::move(writer)),
      shards_(ShardCount()) {
  thread_ = std::thread([this] {
    core::NameThisThread("sy-ledger");
    WriterLoop();
  });
}

SqliteLedger::~SqliteLedger() { Close(); }

void SqliteLedger::Append(Record&& record) {
  if (closed_.load(std::memory_order_acquire)) {
    std::fprintf(stderr, "switchyard ledger: record %s appended after Close; not recorded\n",
                 record.request_id.c_str());
    records_lost_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  ReserveSlot();
  Shard& shard = shards_[ThisThreadIndex() % shards_.size()];
  size_t queued = 0;
  {
    std::lock_guard lock(shard.mu);
    shard.records.push_back(std::move(record));
    queued = shard.records.size();
  }
  if (queued == std::min(options_.wake_records, options_.batch_size)) WakeWriter();
}

void SqliteLedger::ReserveSlot() {
  const auto try_reserve = [this] {
    size_t n = pending_.load(std::memory_order_relaxed);
    while (n < options_.queue_capacity) {
      if (pending_.compare_exchange_weak(n, n + 1, std::memory_order_acq_rel)) return true;
    }
    return false;
  };
  if (try_reserve()) return;
  // Backpressure: the queue is full. Make sure the writer is draining, then wait for room.
  WakeWriter();
  std::unique_lock lock(space_mu_);
  space_cv_.wait(lock, try_reserve);
}

void SqliteLedger::ReleaseSlots(size_t n) {
  pending_.fetch_sub(n, std::memory_order_acq_rel);
  // Taking the lock orders this release before any waiter's re-check: no lost wake-up.
  { std::lock_guard lock(space_mu_); }
  space_cv_.notify_all();
}

void SqliteLedger::WakeWriter() {
  {
    std::lock_guard lock(writer_mu_);
    wake_ = true;
  }
  writer_cv_.notify_one();
}

void SqliteLedger::Flush() {
  std::unique_lock lock(writer_mu_);
  if (exited_) return;
  const uint64_t ticket = ++flush_requested_;
  writer_cv_.notify_one();
  flush_cv_.wait(lock, [&] { return flush_done_ >= ticket || exited_; });
}

void SqliteLedger::Close() {
  std::lock_guard close_lock(close_mu_);
  if (closed_.load(std::memory_order_acquire)) return;
  {
    std::lock_guard lock(writer_mu_);
    stop_ = true;
  }
  writer_cv_.notify_one();
  if (thread_.joinable()) thread_.join();
  writer_.reset();  // statements before their connection
  db_.reset();
  closed_.store(true, std::memory_order_release);
}

void SqliteLedger::WriterLoop() {
  std::vector<Record> records;
  for (;;) {
    uint64_t ticket = 0;
    bool stopping = false;
    bool done = false;
    {
      std::unique_lock lock(writer_mu_);
      writer_cv_.wait_for(lock, options_.flush_interval,
                          [this] { return wake_ || stop_ || flush_requested_ != flush_done_; });
      wake_ = false;
      ticket = flush_requested_;
      stopping = stop_;
    }
    // Everything appended before `ticket` was taken is in a shard now (or reserved and about
    // to be pushed, which only matters while stopping: see the pending_ check below).
    DrainShards(records);
    WriteAll(records);
    {
      std::lock_guard lock(writer_mu_);
      flush_done_ = ticket;
      done = stopping && pending_.load(std::memory_order_acquire) == 0;
      exited_ = done;
    }
    flush_cv_.notify_all();
    if (done) return;
    if (stopping) std::this_thread::yield();  // a producer is between reserve and push
  }
}

void SqliteLedger::DrainShards(std::vector<Record>& out) {
  std::vector<Record> taken;
  for (Shard& shard : shards_) {
    {
      std::lock_guard lock(shard.mu);
      taken.swap(shard.records);
    }
    std::move(taken.begin(), taken.end(), std::back_inserter(out));
    taken.clear();
  }
}

void SqliteLedger::WriteAll(std::vector<Record>& records) {
  const std::span<const Record> all(records);
  for (size_t begin = 0; begin < all.size(); begin += options_.batch_size) {
    const size_t size = std::min(options_.batch_size, all.size() - begin);
    (void)WriteWithRetry(all.subspan(begin, size));
    ReleaseSlots(size);
  }
  records.clear();
}

bool SqliteLedger::WriteWithRetry(std::span<const Record> batch) {
  std::chrono::milliseconds backoff = kFirstBackoff;
  for (;;) {
    core::Status status;
    try {
      // Keeping up: yield every few rows (see the header). Behind: write at the full share.
      const bool keeping_up = pending_.load(std::memory_order_relaxed) <= options_.yield_backlog;
      status = writer_->WriteBatch(batch, keeping_up ? kYieldEveryRecords : 0);
    } catch (const std::exception& e) {  // last-resort net of the writer thread (bad_alloc)
      status = core::MakeError(core::Errc::kInternal, e.what());
    }
    if (status) {
      records_written_.fetch_add(batch.size(), std::memory_order_relaxed);
      batches_written_.fetch_add(1, std::memory_order_relaxed);
      return true;
    }
    write_errors_.fetch_add(1, std::memory_order_relaxed);
    std::fprintf(stderr,
                 "switchyard ledger: writing a batch of %zu records to '%s' failed: %s; "
                 "keeping it and retrying in %lld ms\n",
                 batch.size(), options_.path.c_str(), status.error().message.c_str(),
                 static_cast<long long>(backoff.count()));
    if (!BackoffOrGiveUp(backoff)) {
      std::fprintf(stderr,
                   "switchyard ledger: closing; gave up on %zu records after %lld ms of "
                   "retries (first request_id %s)\n",
                   batch.size(), static_cast<long long>(options_.close_timeout.count()),
                   batch.front().request_id.c_str());
      records_lost_.fetch_add(batch.size(), std::memory_order_relaxed);
      return false;
    }
  }
}

// Sleeps `backoff` (then doubles it, up to max_backoff). While closing, retries only until
// close_timeout after the close began (one deadline for all remaining batches); returns
// false when that time is up.
bool SqliteLedger::BackoffOrGiveUp(std::chrono::milliseconds& backoff) {
  std::unique_lock lock(writer_mu_);
  if (stop_ && !give_up_at_) give_up_at_ = Clock::now() + options_.close_timeout;
  if (give_up_at_ && Clock::now() >= *give_up_at_) return false;
  // Wakes early when Close begins, to start the close deadline.
  writer_cv_.wait_for(lock, backoff, [this] { return stop_ && !give_up_at_; });
  backoff = std::min(backoff * 2, options_.max_backoff);
  return true;
}

}  // namespace sy::ledger
