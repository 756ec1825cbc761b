// BatchLedger: the engine-independent ledger Sink. Request records are queued in memory on the
// request path and written to a database (a BatchWriter: SQLite, PostgreSQL) in batches by one
// background writer thread. SqliteLedger and PostgresLedger are this with their engine's writer.
//
// Queue. Append never does I/O in the common case, takes no global lock and never blocks: the
// queue is split into shards, each a mutex + vector. A producer thread always uses the same shard
// (picked once per thread from a thread-local index), so a shard's mutex is contended only by the
// few producers mapped to it and by the writer when it swaps the shard out. At most
// queue_capacity records are queued or being written; a record appended when the queue is full
// goes to the spill file instead (one buffered write under the spill's mutex).
//
// Writer. Wakes every flush_interval, when a shard reaches wake_records, when a record spills, or
// on Flush/Close; swaps every shard out and writes the records in batches of at most batch_size,
// each batch in ONE transaction. It shares cores with the request workers, so while it keeps up
// (at most yield_backlog records waiting) it yields its core every few rows: a worker that woke
// meanwhile runs at once instead of after the rest of the batch (a 200 ms backlog written in one
// go held a worker off a shared core for a scheduler slice: the load benchmark's 1-connection
// p99). Behind (under saturation) it writes at its full share. wake_records keeps transactions
// large enough: at 32 records a commit, WAL pages and checkpoints tripled SQLite's writer CPU.
//
// Spill. When a write fails (database unreachable, locked, disk full) the writer does not hold
// the batch in memory: it appends it to the spill file (SpillFile, bounded by spill_max_bytes), as
// it does everything it drains while the database keeps failing, and probes the database again
// after a backoff (doubling from 10 ms to max_backoff). Once a write succeeds, the spill is
// replayed oldest first, in batches, before the records queued in memory; replayed rows already
// in the database (a crash between commit and the spill's head update) are skipped by request id.
// A spill left by a previous process is replayed at start. Order: records reach the database in
// the order they were queued, except that a record a worker spilled because the queue was full
// is written before the queued records that came before it (never more than queue_capacity).
// Bound: memory is queue_capacity records, disk is spill_max_bytes. When both are full a record
// is lost: reported on stderr (at most once a second) and counted in records_lost(), never
// waited for — the gateway's workers never block on the ledger.
//
// Rejected. A write the database refuses for a value it holds (BatchWriter's kInvalidRequest: it
// would refuse it on every retry) is split in halves, written apart, until the refused records
// stand alone; each is appended to the rejected file (spill_path + ".rejected", bounded by
// spill_max_bytes, never replayed), logged and counted in records_rejected(). One bad record
// never stalls the ledger.
//
// Retention. With `retention` set, the writer deletes what is older (BatchWriter::Prune: requests
// with their attempts, shadows, feedback), between batches while the database is healthy: a
// pass at start and every prune_interval, each pass one transaction of at most prune_rows a
// table. A pass that finds more starts the next at once, so a backlog (retention turned on over a
// large ledger, or traffic above prune_rows a pass) drains at the database's delete rate,
// interleaved with the new records' batches. A failed pass is logged and tried again after
// prune_interval; it never spills or loses a record.
//
// Durability. Flush() returns once every record appended before it is committed or, while the
// database fails, spilled. Close() (and the destructor) write or spill everything queued, then
// join the writer: a clean shutdown (SIGTERM path) loses nothing. Only when the database and the
// spill file both keep failing during Close are the remaining records, after close_timeout of
// retries, reported on stderr and counted in records_lost(). On a crash (SIGKILL, power loss)
// what is lost is at most what was queued in memory: about flush_interval worth of records (up
// to queue_capacity under heavy load); spilled records survive a process crash.
//
// Thread-safety: Append may be called concurrently from any number of threads. Flush may be
// called from any thread. Close must not race with Append (stop the producers first).
// Ownership: owns its BatchWriter, spill file and writer thread.
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
#include "ledger/batch_writer.h"
#include "ledger/record.h"
#include "ledger/sink.h"

namespace sy::ledger {

class SpillFile;

// The files a ledger keeps beside its database: the spill (records waiting for it) and the
// rejected records (refused by it for what they hold; kept for an operator, never replayed).
struct SpillFiles {
  std::unique_ptr<SpillFile> spill;     // QueueOptions::spill_path
  std::unique_ptr<SpillFile> rejected;  // spill_path + ".rejected"
};

struct QueueOptions {
  size_t batch_size = 512;    // max records per transaction
  size_t wake_records = 128;  // a shard holding this many (or batch_size) wakes the writer
  // While at most this many records wait, the writer yields its core every few rows.
  size_t yield_backlog = 512;
  std::chrono::milliseconds flush_interval{200};  // max time a record waits in the queue
  size_t queue_capacity = 65536;  // max records queued or being written; then Append spills
  std::chrono::milliseconds max_backoff{2000};       // cap of the probe backoff after an error
  std::chrono::milliseconds close_timeout{10000};    // max retrying a failing spill on Close
  std::string spill_path{};                          // REQUIRED; created 0600, one process only
  uint64_t spill_max_bytes = uint64_t{1} << 30;      // the spill file's bound
  std::chrono::hours retention{0};                   // rows older are deleted; 0 = keep every row
  std::chrono::milliseconds prune_interval{60'000};  // between retention passes
  int64_t prune_rows = 1'000;                        // per table, per retention transaction
};

class BatchLedger : public Sink {
 public:
  // Opens (or recovers) the spill file and starts the writer, which replays a spill left by a
  // previous process first. Fails with kInvalidRequest on bad options, with the spill file's
  // error (naming its path) when it cannot be opened or is held by another process.
  // REQUIRES: batch_size, wake_records, queue_capacity and flush_interval positive.
  static core::Result<std::unique_ptr<BatchLedger>> Start(const QueueOptions& options,
                                                          std::unique_ptr<BatchWriter> writer);

  // Close()s.
  ~BatchLedger() override;
  BatchLedger(const BatchLedger&) = delete;
  BatchLedger& operator=(const BatchLedger&) = delete;

  // Queues the record, or spills it when the queue is full; never blocks on the writer.
  // REQUIRES: Close() has not been called. (If it has, the record is reported on stderr and
  // counted in records_lost().)
  void Append(Record&& record) override;

  // Blocks until every record appended before this call is committed or spilled (or, only
  // while closing with a failing spill, given up). Returns at once after Close().
  void Flush();

  // Blocks until a spill left by an earlier process is in the database, or until a pass
  // replays nothing more (the database refuses it for now: the writer keeps retrying). For
  // what reads the database at start (budgets are seeded from it). Returns the records still
  // spilled.
  uint64_t ReplaySpilled();

  // Writes (or spills) everything queued, stops and joins the writer. Idempotent.
  void Close();

  // Counters for metrics; monotonic, relaxed.
  uint64_t records_written() const { return records_written_.load(std::memory_order_relaxed); }
  uint64_t batches_written() const { return batches_written_.load(std::memory_order_relaxed); }
  uint64_t write_errors() const { return write_errors_.load(std::memory_order_relaxed); }
  uint64_t records_lost() const { return records_lost_.load(std::memory_order_relaxed); }
  uint64_t records_spilled() const { return records_spilled_.load(std::memory_order_relaxed); }
  // Records the database refused for what they hold, set aside in the rejected file.
  uint64_t records_rejected() const { return records_rejected_.load(std::memory_order_relaxed); }
  // Rows retention deleted (requests, shadows, feedback; not counting attempts), and its failed
  // passes.
  uint64_t rows_pruned() const { return rows_pruned_.load(std::memory_order_relaxed); }
  uint64_t prune_errors() const { return prune_errors_.load(std::memory_order_relaxed); }
  // Records appended and not yet committed or spilled (queued or being written).
  size_t queued() const { return pending_.load(std::memory_order_relaxed); }
  // Records in the spill file waiting for the database, and the file's size.
  uint64_t spilled() const;
  uint64_t spill_bytes() const;

 protected:
  // Checks `options` (kInvalidRequest) and opens their spill and rejected files: what Start does
  // before it constructs, for the engines' own Open.
  static core::Result<SpillFiles> OpenSpill(const QueueOptions& options);
  BatchLedger(QueueOptions options, std::unique_ptr<BatchWriter> writer, SpillFiles files);

 private:
  struct alignas(64) Shard {
    std::mutex mu;
    std::vector<Record> records;  // guarded by mu
  };
  using Clock = std::chrono::steady_clock;

  bool TryReserveSlot();
  void ReleaseSlots(size_t n);
  void SpillFromWorker(Record&& record);
  void CountLost(size_t n, const std::string& first_request_id, const char* why);
  void WakeWriter();
  void WriterLoop();
  void DrainShards(std::vector<Record>& out);
  void Process(std::vector<Record>& records, bool stopping);
  bool ReplaySpill(bool stopping);
  bool WriteQueued(std::vector<Record>& records);
  bool WriteOne(std::span<const Record> batch, const WriteOptions& options);
  bool SetAside(std::span<const Record> batch, const WriteOptions& options,
                const core::Error& error);
  void SpillQueued(std::vector<Record>& records, bool stopping);
  void MarkFailing(const core::Error& error);
  void MarkHealthy();
  void MaybePrune();

  const QueueOptions options_;
  std::unique_ptr<BatchWriter> writer_;  // used by the writer thread only
  std::unique_ptr<SpillFile> spill_;     // internally synchronised
  std::unique_ptr<SpillFile> rejected_;  // ditto; written by the writer thread only
  std::vector<Shard> shards_;
  std::vector<Record> spare_;  // writer thread only: an empty vector that DrainShards cycles

  // Records reserved by Append and not yet committed or spilled: queued + in flight.
  std::atomic<size_t> pending_{0};

  std::mutex writer_mu_;
  std::condition_variable writer_cv_;  // wakes the writer
  std::condition_variable flush_cv_;   // wakes Flush() callers
  bool wake_ = false;                  // guarded by writer_mu_
  bool stop_ = false;                  // guarded by writer_mu_
  bool exited_ = false;                // guarded by writer_mu_; the writer thread has finished
  uint64_t flush_requested_ = 0;       // guarded by writer_mu_
  uint64_t flush_done_ = 0;            // guarded by writer_mu_
  std::atomic<bool> closed_{false};

  // Writer thread only: whether the last write failed, when to probe the database again, and
  // the next backoff; when Close began while the spill was failing, the time to give up.
  bool failing_ = false;
  Clock::time_point retry_at_{};
  std::chrono::milliseconds backoff_{0};
  std::optional<Clock::time_point> give_up_at_;
  Clock::time_point next_prune_at_{};  // writer thread only; the epoch: a pass at start

  std::atomic<int64_t> last_lost_report_ms_{0};  // rate-limits the "lost" line

  std::mutex close_mu_;  // serialises Close()
  std::thread thread_;

  std::atomic<uint64_t> records_written_{0};
  std::atomic<uint64_t> batches_written_{0};
  std::atomic<uint64_t> write_errors_{0};
  std::atomic<uint64_t> records_lost_{0};
  std::atomic<uint64_t> records_spilled_{0};
  std::atomic<uint64_t> records_rejected_{0};
  std::atomic<uint64_t> rows_pruned_{0};
  std::atomic<uint64_t> prune_errors_{0};
};

}  // namespace sy::ledger
