// SqliteLedger: the embedded ledger Sink. Request records are queued in memory on the request
// path and written to one SQLite file (WAL, synchronous=NORMAL) in batches by one background
// writer thread.
//
// Queue. Append never does I/O and takes no global lock: the queue is split into shards, each a
// mutex + vector. A producer thread always uses the same shard (picked once per thread from a
// thread-local index), so a shard's mutex is contended only by the few producers mapped to it and
// by the writer when it swaps the shard out. The total number of queued and in-flight records is
// bounded by Options::queue_capacity: when it is reached, Append blocks until the writer has
// committed a batch (backpressure). Records are never dropped while the ledger is open.
//
// Writer. Wakes every flush_interval, when a shard reaches wake_records, when the queue is full,
// or on Flush/Close; swaps every shard out and writes the records in batches of at most
// batch_size, each batch in ONE transaction with prepared statements. It shares cores with the
// request workers, so while it keeps up (at most yield_backlog records waiting) it yields its
// core every few rows: a worker that woke meanwhile runs at once instead of after the rest of
// the batch (a 200 ms backlog written in one go held a worker off a shared core for a scheduler
// slice: the load benchmark's 1-connection p99). Behind (under saturation) it writes at its full
// share: the alternatives measured, a nice value or yielding always, let the queue grow to tens
// of thousands of records (over 100 MiB) before backpressure. wake_records keeps transactions
// large enough: at 32 records a commit, WAL pages and checkpoints tripled the writer's CPU. When
// SQLite fails (busy, locked, I/O, disk full) the batch is kept, the error is logged to stderr and
// counted, and the same batch is retried with exponential backoff (capped at max_backoff) until it
// commits.
//
// Durability. Flush() returns once every record appended before it is committed. Close() (and the
// destructor) write everything queued, then join the writer: a clean shutdown (SIGTERM path) loses
// nothing. The one exception is a database that keeps failing during Close: after close_timeout
// of retries the remaining records are reported on stderr and counted in records_lost(). On a
// crash (SIGKILL, power loss) what is lost is at most what was queued and not yet committed,
// i.e. about flush_interval worth of records (or up to queue_capacity under heavy load); with
// synchronous=NORMAL in WAL mode a committed batch survives a process crash, and a power loss
// may roll back the last committed transactions.
//
// Thread-safety: Append may be called concurrently from any number of threads. Flush may be
// called from any thread. Close must not race with Append (stop the producers first).
// Ownership: owns its connection and writer thread; readers (QuerySpend) open their own.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "core/result.h"
#include "ledger/record.h"
#include "ledger/sink.h"

namespace sy::ledger {

namespace detail {
class Db;
class RecordWriter;
}  // namespace detail

class SqliteLedger final : public Sink {
 public:
  struct Options {
    std::string path;           // created if missing; its directory must exist
    size_t batch_size = 512;    // max records per transaction
    size_t wake_records = 128;  // a shard holding this many (or batch_size) wakes the writer
    // While at most this many records wait, the writer yields its core every few rows.
    size_t yield_backlog = 512;
    std::chrono::milliseconds flush_interval{200};  // max time a record waits in the queue
    size_t queue_capacity = 65536;  // max records queued or being written; then Append blocks
    std::chrono::milliseconds busy_timeout{1000};    // SQLite's own wait on a locked database
    std::chrono::milliseconds max_backoff{2000};     // cap of the retry backoff after an error
    std::chrono::milliseconds close_timeout{10000};  // max retrying a failing write on Close
  };

  // Opens (creating if needed) the database, switches it to WAL, creates or migrates the schema
  // and starts the writer. Fails with kInternal and a message naming the path when the file
  // cannot be opened or created, is not a database, or has a newer schema.
  // REQUIRES: batch_size > 0, wake_records > 0, queue_capacity > 0, flush_interval > 0.
  static core::Result<std::unique_ptr<SqliteLedger>> Open(const Options& options);

  // Close()s.
  ~SqliteLedger() override;
  SqliteLedger(const SqliteLedger&) = delete;
  SqliteLedger& operator=(const SqliteLedger&) = delete;

  // Queues the record; no I/O. Blocks only while the queue is at capacity.
  // REQUIRES: Close() has not been called. (If it has, the record is reported on stderr and
  // counted in records_lost().)
  void Append(Record&& record) override;

  // Blocks until every record appended before this call is committed (or, only while closing
  // with a failing database, given up). Returns at once after Close().
  void Flush();

  // Writes everything queued, stops and joins the writer, closes the database. Idempotent.
  void Close();

  // Counters for metrics; monotonic, relaxed.
  uint64_t records_written() const { return records_written_.load(std::memory_order_relaxed); }
  uint64_t batches_written() const { return batches_written_.load(std::memory_order_relaxed); }
  uint64_t write_errors() const { return write_errors_.load(std::memory_order_relaxed); }
  uint64_t records_lost() const { return records_lost_.load(std::memory_order_relaxed); }
  // Records appended and not yet committed (queued or being written), for the queue-depth gauge.
  size_t queued() const { return pending_.load(std::memory_order_relaxed); }

 private:
  struct alignas(64) Shard {
    std::mutex mu;
    std::vector<Record> records;  // guarded by mu
  };

  SqliteLedger(Options options, std::unique_ptr<detail::Db> db,
               std::unique_ptr<detail::RecordWriter> writer);

  void ReserveSlot();
  void ReleaseSlots(size_t n);
  void WakeWriter();
  void WriterLoop();
  void DrainShards(std::vector<Record>& out);
  void WriteAll(std::vector<Record>& records);
  bool WriteWithRetry(std::span<const Record> batch);
  bool BackoffOrGiveUp(std::chrono::milliseconds& backoff);

  const Options options_;
  std::unique_ptr<detail::Db> db_;                // used by the writer thread only
  std::unique_ptr<detail::RecordWriter> writer_;  // ditto
  std::vector<Shard> shards_;

  // Records reserved by Append and not yet committed (or given up): queued + in flight.
  std::atomic<size_t> pending_{0};
  std::mutex space_mu_;  // producers waiting for room
  std::condition_variable space_cv_;

  std::mutex writer_mu_;
  std::condition_variable writer_cv_;  // wakes the writer
  std::condition_variable flush_cv_;   // wakes Flush() callers
  bool wake_ = false;                  // guarded by writer_mu_
  bool stop_ = false;                  // guarded by writer_mu_
  bool exited_ = false;                // guarded by writer_mu_; the writer thread has finished
  uint64_t flush_requested_ = 0;       // guarded by writer_mu_
  uint64_t flush_done_ = 0;            // guarded by writer_mu_
  std::atomic<bool> closed_{false};

  // Writer thread only: when Close began while writes were failing, the time to stop retrying.
  std::optional<std::chrono::steady_clock::time_point> give_up_at_;

  std::mutex close_mu_;  // serialises Close()
  std::thread thread_;

  std::atomic<uint64_t> records_written_{0};
  std::atomic<uint64_t> batches_written_{0};
  std::atomic<uint64_t> write_errors_{0};
  std::atomic<uint64_t> records_lost_{0};
};

}  // namespace sy::ledger
