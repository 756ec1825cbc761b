#include "ledger/batch_ledger.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/clock.h"
#include "ledger/detail/test_util.h"
#include "ledger/spill_file.h"

namespace sy::ledger {
namespace {

using namespace std::chrono_literals;
using test::MakeRecord;
using test::TempDir;

// A database the test controls: it fails while `failing`, blocks while `gate` is closed, and
// remembers what it committed (request id and whether it came as a replay), in order.
class FakeDatabase {
 public:
  struct Row {
    std::string request_id;
    bool replay;
  };

  void SetFailing(bool failing) {
    std::lock_guard lock(mu_);
    failing_ = failing;
  }
  // Batches holding this request id are refused for what they hold (kInvalidRequest).
  void Refuse(std::string request_id) {
    std::lock_guard lock(mu_);
    refused_.push_back(std::move(request_id));
  }
  void SetGate(bool open) {
    {
      std::lock_guard lock(mu_);
      gate_open_ = open;
    }
    cv_.notify_all();
  }
  std::vector<Row> rows() const {
    std::lock_guard lock(mu_);
    return rows_;
  }

  // Retention: `n` rows are older than any cutoff asked; each Prune deletes up to its max_rows.
  void SetOldRows(int64_t n) {
    std::lock_guard lock(mu_);
    old_rows_ = n;
  }
  int64_t old_rows() const {
    std::lock_guard lock(mu_);
    return old_rows_;
  }
  // The cutoff of every Prune asked, in order.
  std::vector<int64_t> prunes() const {
    std::lock_guard lock(mu_);
    return prunes_;
  }

  core::Result<PruneCounts> Prune(int64_t before_ms, int64_t max_rows) {
    std::lock_guard lock(mu_);
    prunes_.push_back(before_ms);
    if (failing_) return core::MakeError(core::Errc::kInternal, "connection refused");
    const int64_t n = std::min(old_rows_, max_rows);
    old_rows_ -= n;
    return PruneCounts{.requests = n, .shadows = 0, .feedback = 0};
  }

  core::Status Write(std::span<const Record> records, const WriteOptions& options) {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return gate_open_; });
    if (failing_) return core::MakeError(core::Errc::kInternal, "connection refused");
    for (const Record& r : records) {
      if (std::find(refused_.begin(), refused_.end(), r.request_id) != refused_.end()) {
        return core::MakeError(core::Errc::kInvalidRequest, "value out of range");
      }
    }
    for (const Record& r : records) rows_.push_back({r.request_id, options.replay});
    return {};
  }

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool failing_ = false;
  bool gate_open_ = true;
  std::vector<Row> rows_;
  std::vector<std::string> refused_;
  int64_t old_rows_ = 0;
  std::vector<int64_t> prunes_;
};

class FakeWriter final : public BatchWriter {
 public:
  explicit FakeWriter(FakeDatabase& db) : db_(db) {}
  core::Status WriteBatch(std::span<const Record> records, const WriteOptions& options) override {
    return db_.Write(records, options);
  }
  core::Result<PruneCounts> Prune(int64_t before_ms, int64_t max_rows) override {
    return db_.Prune(before_ms, max_rows);
  }
  std::string Describe() const override { return "fake database"; }

 private:
  FakeDatabase& db_;
};

std::unique_ptr<BatchLedger> Start(FakeDatabase& db, QueueOptions options) {
  options.max_backoff = 5ms;
  auto ledger = BatchLedger::Start(options, std::make_unique<FakeWriter>(db));
  EXPECT_TRUE(ledger.has_value()) << (ledger ? "" : ledger.error().message);
  return ledger ? std::move(*ledger) : nullptr;
}

// Polls (bounded) until `done` holds.
template <class Pred>
bool Eventually(Pred done) {
  const auto give_up = std::chrono::steady_clock::now() + 20s;
  while (!done()) {
    if (std::chrono::steady_clock::now() > give_up) return false;
    std::this_thread::sleep_for(1ms);
  }
  return true;
}

std::vector<std::string> Ids(const std::vector<FakeDatabase::Row>& rows) {
  std::vector<std::string> ids;
  for (const auto& row : rows) ids.push_back(row.request_id);
  return ids;
}

std::vector<std::string> ExpectedIds(int64_t first, int64_t count) {
  std::vector<std::string> ids;
  for (int64_t i = first; i < first + count; ++i) ids.push_back(MakeRecord(i).request_id);
  return ids;
}

// The database hangs: the queue fills, and Append still returns at once (the records spill)
// rather than holding a request worker.
TEST(BatchLedgerTest, AFullQueueSpillsInsteadOfBlockingTheCaller) {
  TempDir dir;
  FakeDatabase db;
  db.SetGate(false);
  auto ledger = Start(
      db,
      {.batch_size = 2, .wake_records = 2, .queue_capacity = 4, .spill_path = dir.File("spill")});
  ASSERT_NE(ledger, nullptr);
  std::atomic<bool> appended{false};
  std::thread producer([&] {
    for (int64_t i = 0; i < 100; ++i) ledger->Append(MakeRecord(i));
    appended = true;
  });
  ASSERT_TRUE(Eventually([&] { return appended.load(); }));  // with the database still hung
  producer.join();
  EXPECT_GE(ledger->records_spilled(), 96u);
  EXPECT_EQ(ledger->records_lost(), 0u);
  db.SetGate(true);
  ASSERT_TRUE(Eventually([&] { return ledger->spilled() == 0 && ledger->queued() == 0; }));
  auto ids = Ids(db.rows());
  std::sort(ids.begin(), ids.end());
  auto expected = ExpectedIds(0, 100);
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(ids, expected);  // every record once
}

// While the database fails, what the writer holds goes to the spill; once it is back, the spill
// is replayed oldest first (flagged as a replay) before newer records.
TEST(BatchLedgerTest, AFailingDatabaseSpillsThenReplaysInOrder) {
  TempDir dir;
  FakeDatabase db;
  db.SetFailing(true);
  auto ledger = Start(db, {.batch_size = 8, .flush_interval = 1ms, .spill_path = dir.File("s")});
  ASSERT_NE(ledger, nullptr);
  for (int64_t i = 0; i < 50; ++i) ledger->Append(MakeRecord(i));
  ledger->Flush();
  EXPECT_EQ(ledger->spilled(), 50u);
  EXPECT_EQ(ledger->queued(), 0u);  // nothing held in memory
  EXPECT_GT(ledger->write_errors(), 0u);
  EXPECT_GT(ledger->spill_bytes(), 0u);

  db.SetFailing(false);
  ASSERT_TRUE(Eventually([&] { return ledger->spilled() == 0; }));
  for (int64_t i = 50; i < 60; ++i) ledger->Append(MakeRecord(i));
  ledger->Flush();
  const auto rows = db.rows();
  EXPECT_EQ(Ids(rows), ExpectedIds(0, 60));
  for (size_t i = 0; i < rows.size(); ++i) EXPECT_EQ(rows[i].replay, i < 50) << i;
  EXPECT_EQ(ledger->spill_bytes(), 16u);  // emptied: back to its header
  EXPECT_EQ(ledger->records_lost(), 0u);
}

// A process that closes while the database is down: records 0-9 spilled to `spill`.
void LeaveASpill(const std::string& spill) {
  FakeDatabase down;
  down.SetFailing(true);
  auto ledger = Start(down, {.flush_interval = 1h, .spill_path = spill});
  ASSERT_NE(ledger, nullptr);
  for (int64_t i = 0; i < 10; ++i) ledger->Append(MakeRecord(i));
  ledger->Close();
  EXPECT_EQ(ledger->records_lost(), 0u);
  EXPECT_EQ(ledger->spilled(), 10u);
}

// Closing while the database is down spills everything; the next process replays it at start.
TEST(BatchLedgerTest, ASpillLeftAtCloseIsReplayedByTheNextProcess) {
  TempDir dir;
  const std::string spill = dir.File("spill");
  LeaveASpill(spill);
  FakeDatabase up;
  auto ledger = Start(up, {.flush_interval = 1h, .spill_path = spill});
  ASSERT_NE(ledger, nullptr);
  ASSERT_TRUE(Eventually([&] { return ledger->spilled() == 0; }));  // at start, not at 1 h
  const auto rows = up.rows();
  EXPECT_EQ(Ids(rows), ExpectedIds(0, 10));
  for (const auto& row : rows) EXPECT_TRUE(row.replay);
}

// What reads the database at start (budget seeding) waits for the replay; a database that
// refuses it does not hold the start up.
TEST(BatchLedgerTest, ReplaySpilledWaitsForTheReplayOrGivesUp) {
  TempDir dir;
  const std::string spill = dir.File("spill");
  LeaveASpill(spill);
  {
    FakeDatabase down;
    down.SetFailing(true);
    auto still_down = Start(down, {.flush_interval = 1h, .spill_path = spill});
    ASSERT_NE(still_down, nullptr);
    EXPECT_EQ(still_down->ReplaySpilled(), 10u);
  }
  FakeDatabase up;
  auto ledger = Start(up, {.flush_interval = 1h, .spill_path = spill});
  ASSERT_NE(ledger, nullptr);
  EXPECT_EQ(ledger->ReplaySpilled(), 0u);
  EXPECT_EQ(Ids(up.rows()), ExpectedIds(0, 10));  // at once: no waiting for the writer
}

// Memory and disk both full: records are counted lost, never waited for, and what was kept
// lands once the database is back: written + lost accounts for every record.
TEST(BatchLedgerTest, WhenTheQueueAndTheSpillAreFullRecordsAreCountedLostNotWaitedFor) {
  TempDir dir;
  FakeDatabase db;
  db.SetGate(false);
  auto ledger = Start(db, {.batch_size = 1,
                           .wake_records = 1,
                           .queue_capacity = 2,
                           .spill_path = dir.File("spill"),
                           .spill_max_bytes = 16 + 3 * 400});
  ASSERT_NE(ledger, nullptr);
  for (int64_t i = 0; i < 40; ++i) ledger->Append(MakeRecord(i));  // returns: nothing blocks
  EXPECT_GT(ledger->records_lost(), 0u);
  EXPECT_LE(ledger->spill_bytes(), 16u + 3 * 400);
  db.SetGate(true);
  ASSERT_TRUE(Eventually([&] { return ledger->spilled() == 0 && ledger->queued() == 0; }));
  EXPECT_EQ(db.rows().size() + ledger->records_lost(), 40u);
}

// A record the database refuses for what it holds would be refused on every retry: the batch is
// split until it stands alone, then set aside; every other record lands, in order.
TEST(BatchLedgerTest, ARecordTheDatabaseRefusesIsSetAsideNotRetriedForEver) {
  TempDir dir;
  FakeDatabase db;
  db.Refuse(MakeRecord(13).request_id);
  db.Refuse(MakeRecord(40).request_id);
  auto ledger = Start(db, {.batch_size = 64, .flush_interval = 1h, .spill_path = dir.File("s")});
  ASSERT_NE(ledger, nullptr);
  for (int64_t i = 0; i < 50; ++i) ledger->Append(MakeRecord(i));
  ledger->Close();
  std::vector<std::string> expected;
  for (int64_t i = 0; i < 50; ++i) {
    if (i != 13 && i != 40) expected.push_back(MakeRecord(i).request_id);
  }
  EXPECT_EQ(Ids(db.rows()), expected);
  EXPECT_EQ(ledger->records_rejected(), 2u);
  EXPECT_EQ(ledger->records_lost(), 0u);
  EXPECT_EQ(ledger->spilled(), 0u);  // never spilled: the database works
  ledger.reset();                    // lets go of its files
  auto rejected = SpillFile::Open({.path = dir.File("s.rejected")});
  ASSERT_TRUE(rejected.has_value());
  auto kept = (*rejected)->Peek(10);
  ASSERT_TRUE(kept.has_value());
  ASSERT_EQ(kept->size(), 2u);
  EXPECT_EQ((*kept)[0].request_id, MakeRecord(13).request_id);
  EXPECT_EQ((*kept)[1].request_id, MakeRecord(40).request_id);
}

TEST(BatchLedgerTest, StartRefusesBadOptions) {
  FakeDatabase db;
  auto no_spill = BatchLedger::Start({}, std::make_unique<FakeWriter>(db));
  ASSERT_FALSE(no_spill.has_value());
  EXPECT_EQ(no_spill.error().code, core::Errc::kInvalidRequest);
  TempDir dir;
  auto zero = BatchLedger::Start({.batch_size = 0, .spill_path = dir.File("s")},
                                 std::make_unique<FakeWriter>(db));
  ASSERT_FALSE(zero.has_value());
  auto negative = BatchLedger::Start({.spill_path = dir.File("s"), .retention = -1h},
                                     std::make_unique<FakeWriter>(db));
  ASSERT_FALSE(negative.has_value());
  EXPECT_EQ(negative.error().code, core::Errc::kInvalidRequest);
}

int64_t NowMs() { return core::UnixMs(std::chrono::system_clock::now()); }

// Retention off (the default): the writer never deletes.
TEST(BatchLedgerTest, WithoutRetentionNothingIsPruned) {
  TempDir dir;
  FakeDatabase db;
  db.SetOldRows(10);
  auto ledger = Start(db, {.flush_interval = 1ms, .spill_path = dir.File("spill")});
  ASSERT_NE(ledger, nullptr);
  ledger->Append(MakeRecord(1));
  ledger->Flush();
  ledger->Close();
  EXPECT_TRUE(db.prunes().empty());
  EXPECT_EQ(ledger->rows_pruned(), 0u);
}

// A pass at start, asking for what is older than the retention; a backlog larger than a pass
// drains pass after pass without waiting prune_interval, then waits for it.
TEST(BatchLedgerTest, RetentionDeletesOlderRowsAtStartAndDrainsABacklogAtOnce) {
  TempDir dir;
  FakeDatabase db;
  db.SetOldRows(25);
  const int64_t before_start = NowMs();
  auto ledger = Start(db, {.flush_interval = 50ms,
                           .spill_path = dir.File("spill"),
                           .retention = 24h,
                           .prune_interval = 1h,
                           .prune_rows = 10});
  ASSERT_NE(ledger, nullptr);
  // 10 + 10 + 5: three passes, the third short. A pass that waited for flush_interval or
  // prune_interval would leave the backlog there much longer than this bound.
  ASSERT_TRUE(Eventually([&] { return db.old_rows() == 0 && ledger->rows_pruned() == 25; }));
  std::this_thread::sleep_for(200ms);  // the next is an hour away
  const std::vector<int64_t> prunes = db.prunes();
  ASSERT_EQ(prunes.size(), 3u);
  const int64_t day_ms = 24 * 3600 * 1000;
  EXPECT_GE(prunes[0], before_start - day_ms);
  EXPECT_LE(prunes[0], NowMs() - day_ms);
  EXPECT_EQ(ledger->prune_errors(), 0u);
}

// A failed pass is counted and retried after prune_interval; the records still land.
TEST(BatchLedgerTest, AFailedRetentionPassIsRetriedLaterAndLosesNothing) {
  TempDir dir;
  FakeDatabase db;
  db.SetOldRows(3);
  db.SetFailing(true);
  auto ledger = Start(db, {.flush_interval = 1ms,
                           .spill_path = dir.File("spill"),
                           .retention = 1h,
                           .prune_interval = 20ms,
                           .prune_rows = 10});
  ASSERT_NE(ledger, nullptr);
  ASSERT_TRUE(Eventually([&] { return ledger->prune_errors() >= 1; }));
  ledger->Append(MakeRecord(1));
  db.SetFailing(false);
  ASSERT_TRUE(Eventually([&] { return db.old_rows() == 0; }));
  EXPECT_GE(db.prunes().size(), 2u);
  ledger->Flush();
  EXPECT_EQ(Ids(db.rows()), ExpectedIds(1, 1));
  EXPECT_EQ(ledger->rows_pruned(), 3u);
  EXPECT_EQ(ledger->records_lost(), 0u);
}

}  // namespace
}  // namespace sy::ledger
