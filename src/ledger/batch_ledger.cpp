#include "ledger/batch_ledger.h"

#include <algorithm>
#include <cstdio>
#include <exception>
#include <iterator>
#include <utility>

#include "core/clock.h"
#include "core/thread_name.h"
#include "ledger/spill_file.h"

namespace sy::ledger {
namespace {

constexpr std::chrono::milliseconds kFirstBackoff{10};
// About 100 µs of inserts between yields on a slow core: a syscall per few rows.
constexpr size_t kYieldEveryRecords = 4;
constexpr int64_t kLostReportEveryMs = 1000;

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

int64_t SteadyMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

core::Result<SpillFiles> BatchLedger::OpenSpill(const QueueOptions& options) {
  if (options.batch_size == 0 || options.wake_records == 0 || options.queue_capacity == 0 ||
      options.flush_interval.count() <= 0 || options.spill_path.empty() ||
      options.retention.count() < 0 || options.prune_interval.count() <= 0 ||
      options.prune_rows <= 0) {
    return core::MakeError(core::Errc::kInvalidRequest,
                           "ledger options: batch_size, wake_records, queue_capacity, "
                           "flush_interval, prune_interval and prune_rows must be positive, "
                           "retention not negative and spill_path set");
  }
  auto spill = SpillFile::Open({.path = options.spill_path, .max_bytes = options.spill_max_bytes});
  if (!spill) return std::move(spill).error();
  auto rejected = SpillFile::Open(
      {.path = options.spill_path + ".rejected", .max_bytes = options.spill_max_bytes});
  if (!rejected) return std::move(rejected).error();
  return SpillFiles{std::move(*spill), std::move(*rejected)};
}

core::Result<std::unique_ptr<BatchLedger>> BatchLedger::Start(const QueueOptions& options,
                                                              std::unique_ptr<BatchWriter> writer) {
  auto spill = OpenSpill(options);
  if (!spill) return std::move(spill).error();
  return std::unique_ptr<BatchLedger>(
      new BatchLedger(options, std::move(writer), std::move(*spill)));
}

BatchLedger::BatchLedger(QueueOptions options, std::unique_ptr<BatchWriter> writer,
                         SpillFiles files)
    : options_(std::move(options)),
      writer_(std::move(writer)),
      spill_(std::move(files.spill)),
      rejected_(std::move(files.rejected)),
      shards_(ShardCount()) {
  if (spill_->dropped_bytes() > 0) {
    std::fprintf(stderr,
                 "switchyard ledger: spill file '%s' ended in a torn record (a crash while "
                 "spilling); dropped its last %llu bytes\n",
                 spill_->path().c_str(), static_cast<unsigned long long>(spill_->dropped_bytes()));
  }
  if (!spill_->empty()) {
    std::fprintf(stderr, "switchyard ledger: replaying %llu spilled records from '%s'\n",
                 static_cast<unsigned long long>(spill_->records()), spill_->path().c_str());
    wake_ = true;
  }
  thread_ = std::thread([this] {
    core::NameThisThread("sy-ledger");
    WriterLoop();
  });
}

BatchLedger::~BatchLedger() { Close(); }

uint64_t BatchLedger::spilled() const { return spill_->records(); }
uint64_t BatchLedger::spill_bytes() const { return spill_->bytes(); }

void BatchLedger::Append(Record&& record) {
  if (closed_.load(std::memory_order_acquire)) {
    std::fprintf(stderr, "switchyard ledger: record %s appended after Close; not recorded\n",
                 record.request_id.c_str());
    records_lost_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  if (!TryReserveSlot()) {
    SpillFromWorker(std::move(record));
    return;
  }
  Shard& shard = shards_[ThisThreadIndex() % shards_.size()];
  size_t queued = 0;
  {
    std::lock_guard lock(shard.mu);
    shard.records.push_back(std::move(record));
    queued = shard.records.size();
  }
  if (queued == std::min(options_.wake_records, options_.batch_size)) WakeWriter();
}

bool BatchLedger::TryReserveSlot() {
  size_t n = pending_.load(std::memory_order_relaxed);
  while (n < options_.queue_capacity) {
    if (pending_.compare_exchange_weak(n, n + 1, std::memory_order_acq_rel)) return true;
  }
  return false;
}

void BatchLedger::ReleaseSlots(size_t n) { pending_.fetch_sub(n, std::memory_order_acq_rel); }

// The queue is full: the database is slower than the traffic or failing. The record goes to the
// spill file rather than making a request worker wait.
void BatchLedger::SpillFromWorker(Record&& record) {
  auto appended = spill_->Append(std::span<const Record>(&record, 1));
  if (appended && *appended == 1) {
    records_spilled_.fetch_add(1, std::memory_order_relaxed);
    WakeWriter();
    return;
  }
  CountLost(1, record.request_id,
            appended ? "the queue and the spill file are full" : appended.error().message.c_str());
}

void BatchLedger::CountLost(size_t n, const std::string& first_request_id, const char* why) {
  records_lost_.fetch_add(n, std::memory_order_relaxed);
  const int64_t now = SteadyMs();
  int64_t last = last_lost_report_ms_.load(std::memory_order_relaxed);
  if (now - last < kLostReportEveryMs ||
      !last_lost_report_ms_.compare_exchange_strong(last, now, std::memory_order_relaxed)) {
    return;
  }
  std::fprintf(stderr,
               "switchyard ledger: LOST %zu records (first request_id %s): %s; %llu lost so "
               "far\n",
               n, first_request_id.c_str(), why,
               static_cast<unsigned long long>(records_lost_.load(std::memory_order_relaxed)));
}

void BatchLedger::WakeWriter() {
  {
    std::lock_guard lock(writer_mu_);
    wake_ = true;
  }
  writer_cv_.notify_one();
}

void BatchLedger::Flush() {
  std::unique_lock lock(writer_mu_);
  if (exited_) return;
  const uint64_t ticket = ++flush_requested_;
  writer_cv_.notify_one();
  flush_cv_.wait(lock, [&] { return flush_done_ >= ticket || exited_; });
}

uint64_t BatchLedger::ReplaySpilled() {
  uint64_t left = spilled();
  while (left > 0) {
    Flush();
    const uint64_t now = spilled();
    if (now >= left) break;
    left = now;
  }
  return left;
}

void BatchLedger::Close() {
  std::lock_guard close_lock(close_mu_);
  if (closed_.load(std::memory_order_acquire)) return;
  {
    std::lock_guard lock(writer_mu_);
    stop_ = true;
  }
  writer_cv_.notify_one();
  if (thread_.joinable()) thread_.join();
  writer_.reset();
  closed_.store(true, std::memory_order_release);
}

void BatchLedger::WriterLoop() {
  // Drained from the shards and neither written nor spilled yet: empty after every pass unless
  // the database and the spill file both failed (then kept, their slots still reserved).
  std::vector<Record> records;
  for (;;) {
    uint64_t ticket = 0;
    bool stopping = false;
    bool done = false;
    {
      std::unique_lock lock(writer_mu_);
      auto wait = options_.flush_interval;
      if (failing_) {
        const auto until_probe =
            std::chrono::duration_cast<std::chrono::milliseconds>(retry_at_ - Clock::now());
        wait = std::clamp(until_probe, std::chrono::milliseconds(1), wait);
      }
      writer_cv_.wait_for(lock, wait,
                          [this] { return wake_ || stop_ || flush_requested_ != flush_done_; });
      wake_ = false;
      ticket = flush_requested_;
      stopping = stop_;
    }
    // Everything appended before `ticket` was taken is in a shard now (or reserved and about
    // to be pushed, which only matters while stopping: see the pending_ check below).
    DrainShards(records);
    Process(records, stopping);
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

void BatchLedger::DrainShards(std::vector<Record>& out) {
  // The emptied vector goes to the next shard with its capacity, so that a worker's appends
  // until the next drain do not regrow it (every regrowth allocated and moved each queued
  // record). One that a burst grew past twice a wake-up's records is released: the queue's
  // bound, not the largest burst, is what stays allocated.
  const size_t keep = 2 * std::min(options_.wake_records, options_.batch_size);
  for (Shard& shard : shards_) {
    {
      std::lock_guard lock(shard.mu);
      spare_.swap(shard.records);
    }
    if (out.empty()) {
      out.swap(spare_);  // the shard's records as they are: a record's move is ~30 strings
    } else {
      std::move(spare_.begin(), spare_.end(), std::back_inserter(out));
      spare_.clear();
    }
    if (spare_.capacity() > keep) spare_ = std::vector<Record>();
  }
}

// One pass: while the database works, the spill first, then the queue; while it fails, the
// queue goes to the spill until the next probe (every write is a probe; closing probes once).
void BatchLedger::Process(std::vector<Record>& records, bool stopping) {
  const bool probe = !failing_ || stopping || Clock::now() >= retry_at_;
  if (probe && ReplaySpill(stopping) && WriteQueued(records)) {
    MarkHealthy();
    if (!stopping) MaybePrune();
    if (!spill_->empty()) {  // more to replay: the next pass starts at once
      std::lock_guard lock(writer_mu_);
      wake_ = true;
    }
    return;
  }
  SpillQueued(records, stopping);
}

// Replays at most queue_capacity spilled records a pass, so that a spill that workers keep
// feeding (the queue is full) does not starve the queue and Flush callers; while closing, all
// of it, so that a clean shutdown with a working database leaves no spill behind.
bool BatchLedger::ReplaySpill(bool stopping) {
  size_t replayed = 0;
  while (!spill_->empty() && (stopping || replayed < options_.queue_capacity)) {
    auto batch = spill_->Peek(options_.batch_size);
    if (!batch) {
      MarkFailing(batch.error());
      return false;
    }
    if (!WriteOne(*batch, {.replay = true})) return false;
    if (auto s = spill_->Consume(batch->size()); !s) {
      MarkFailing(s.error());  // replayed again later: skipped by request id
      return false;
    }
    replayed += batch->size();
  }
  return true;
}

// Writes `records` in batches; on a failure keeps the unwritten ones in `records`.
bool BatchLedger::WriteQueued(std::vector<Record>& records) {
  const std::span<const Record> all(records);
  size_t written = 0;
  bool ok = true;
  while (written < all.size()) {
    const size_t size = std::min(options_.batch_size, all.size() - written);
    // Keeping up: yield every few rows (see the header). Behind: write at the full share.
    const bool keeping_up = pending_.load(std::memory_order_relaxed) <= options_.yield_backlog;
    ok = WriteOne(all.subspan(written, size),
                  {.yield_every = keeping_up ? kYieldEveryRecords : size_t{0}});
    if (!ok) break;
    written += size;
    ReleaseSlots(size);
  }
  records.erase(records.begin(), records.begin() + static_cast<std::ptrdiff_t>(written));
  return ok;
}

bool BatchLedger::WriteOne(std::span<const Record> batch, const WriteOptions& options) {
  core::Status status;
  try {
    status = writer_->WriteBatch(batch, options);
  } catch (const std::exception& e) {  // last-resort net of the writer thread (bad_alloc)
    status = core::MakeError(core::Errc::kInternal, e.what());
  }
  if (status) {
    records_written_.fetch_add(batch.size(), std::memory_order_relaxed);
    batches_written_.fetch_add(1, std::memory_order_relaxed);
    return true;
  }
  write_errors_.fetch_add(1, std::memory_order_relaxed);
  if (status.error().code == core::Errc::kInvalidRequest)
    return SetAside(batch, options, status.error());
  MarkFailing(status.error());
  return false;
}

// The database refused a value in `batch` and would refuse it for ever: halves are written
// apart until the refused records stand alone, and those go to the rejected file, so one bad
// record cannot stall the ledger (it would be spilled and replayed, and refused, without end).
bool BatchLedger::SetAside(std::span<const Record> batch, const WriteOptions& options,
                           const core::Error& error) {
  if (batch.size() > 1) {
    const size_t half = batch.size() / 2;
    return WriteOne(batch.first(half), options) && WriteOne(batch.subspan(half), options);
  }
  auto appended = rejected_->Append(batch);
  if (!appended || *appended != 1) {
    CountLost(1, batch.front().request_id,
              appended ? "refused by the database, and the rejected file is full"
                       : appended.error().message.c_str());
    return true;
  }
  records_rejected_.fetch_add(1, std::memory_order_relaxed);
  std::fprintf(stderr, "switchyard ledger: %s refused record %s (%s); set aside in '%s'\n",
               writer_->Describe().c_str(), batch.front().request_id.c_str(), error.message.c_str(),
               rejected_->path().c_str());
  return true;
}

// Moves `records` to the spill file. What the spill refuses (full, I/O error) stays in `records`
// for the next pass; while closing, until close_timeout has passed, then it is counted lost.
void BatchLedger::SpillQueued(std::vector<Record>& records, bool stopping) {
  if (records.empty()) return;
  auto appended = spill_->Append(records);
  const size_t n = appended ? *appended : 0;
  records_spilled_.fetch_add(n, std::memory_order_relaxed);
  ReleaseSlots(n);
  records.erase(records.begin(), records.begin() + static_cast<std::ptrdiff_t>(n));
  if (records.empty()) return;
  const std::string why = appended ? "the spill file is full" : appended.error().message;
  if (!stopping) {
    std::fprintf(stderr, "switchyard ledger: cannot spill %zu records to '%s': %s; keeping them\n",
                 records.size(), spill_->path().c_str(), why.c_str());
    return;
  }
  if (!give_up_at_) give_up_at_ = Clock::now() + options_.close_timeout;
  if (Clock::now() < *give_up_at_) {
    std::this_thread::sleep_for(std::min(options_.max_backoff, std::chrono::milliseconds(100)));
    return;
  }
  CountLost(records.size(), records.front().request_id, why.c_str());
  ReleaseSlots(records.size());
  records.clear();
}

// One retention pass when one is due (see the header). A pass that deleted a full prune_rows of
// any table left more behind: the next starts on the writer's next pass, at once.
void BatchLedger::MaybePrune() {
  if (options_.retention.count() <= 0) return;
  const auto now = Clock::now();
  if (now < next_prune_at_) return;
  const int64_t before_ms = core::UnixMs(std::chrono::system_clock::now() - options_.retention);
  auto counts = [&]() -> core::Result<PruneCounts> {
    try {
      return writer_->Prune(before_ms, options_.prune_rows);
    } catch (const std::exception& e) {  // as WriteOne
      return core::MakeError(core::Errc::kInternal, e.what());
    }
  }();
  next_prune_at_ = now + options_.prune_interval;
  if (!counts) {
    prune_errors_.fetch_add(1, std::memory_order_relaxed);
    std::fprintf(stderr,
                 "switchyard ledger: deleting rows past retention from %s failed: %s; trying "
                 "again in %lld ms\n",
                 writer_->Describe().c_str(), counts.error().message.c_str(),
                 static_cast<long long>(options_.prune_interval.count()));
    return;
  }
  rows_pruned_.fetch_add(static_cast<uint64_t>(counts->total()), std::memory_order_relaxed);
  const int64_t most = std::max({counts->requests, counts->shadows, counts->feedback});
  if (most >= options_.prune_rows) {
    next_prune_at_ = now;
    std::lock_guard lock(writer_mu_);
    wake_ = true;
  }
}

void BatchLedger::MarkFailing(const core::Error& error) {
  backoff_ = failing_ ? std::min(backoff_ * 2, options_.max_backoff) : kFirstBackoff;
  std::fprintf(stderr,
               "switchyard ledger: writing to %s failed: %s; spilling to '%s' (%llu records "
               "there) and trying again in %lld ms\n",
               writer_->Describe().c_str(), error.message.c_str(), spill_->path().c_str(),
               static_cast<unsigned long long>(spill_->records()),
               static_cast<long long>(backoff_.count()));
  failing_ = true;
  retry_at_ = Clock::now() + backoff_;
}

void BatchLedger::MarkHealthy() {
  if (!failing_) return;
  failing_ = false;
  give_up_at_.reset();
  std::fprintf(stderr,
               "switchyard ledger: %s is writable again; %llu spilled records left to replay\n",
               writer_->Describe().c_str(), static_cast<unsigned long long>(spill_->records()));
}

}  // namespace sy::ledger
