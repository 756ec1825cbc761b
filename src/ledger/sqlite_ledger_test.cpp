#include "ledger/sqlite_ledger.h"

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include "core/clock.h"
#include "ledger/detail/schema.h"
#include "ledger/detail/sqlite.h"
#include "ledger/detail/test_util.h"
#include "ledger/spill_file.h"

namespace sy::ledger {
namespace {

using namespace std::chrono_literals;
using test::ExpectedAttempts;
using test::MakeRecord;
using test::QueryInt;
using test::TempDir;

std::unique_ptr<SqliteLedger> OpenLedger(const SqliteLedger::Options& options) {
  auto ledger = SqliteLedger::Open(options);
  EXPECT_TRUE(ledger.has_value()) << (ledger ? "" : ledger.error().message);
  return ledger ? std::move(*ledger) : nullptr;
}

// Appends records [first, first + count) from `threads` threads, each a disjoint slice.
void AppendConcurrently(SqliteLedger& ledger, int threads, int64_t per_thread) {
  std::vector<std::thread> producers;
  producers.reserve(static_cast<size_t>(threads));
  for (int t = 0; t < threads; ++t) {
    producers.emplace_back([&ledger, t, per_thread] {
      for (int64_t i = 0; i < per_thread; ++i) ledger.Append(MakeRecord(t * per_thread + i));
    });
  }
  for (auto& producer : producers) producer.join();
}

TEST(SqliteLedgerTest, ConcurrentAppendsLandExactlyOnceWithTheirAttempts) {
  TempDir dir;
  const std::string path = dir.File("ledger.db");
  auto ledger = OpenLedger({.path = path, .batch_size = 64, .flush_interval = 5ms});
  ASSERT_NE(ledger, nullptr);
  constexpr int kThreads = 6;
  constexpr int64_t kPerThread = 400;
  constexpr int64_t kTotal = kThreads * kPerThread;
  AppendConcurrently(*ledger, kThreads, kPerThread);
  ledger->Flush();

  EXPECT_EQ(QueryInt(path, "SELECT COUNT(*) FROM requests"), kTotal);
  EXPECT_EQ(QueryInt(path, "SELECT COUNT(DISTINCT request_id) FROM requests"), kTotal);
  EXPECT_EQ(QueryInt(path, "SELECT COUNT(*) FROM attempts"), ExpectedAttempts(kTotal));
  // Every attempt points at its own request row, and attempts_count matches.
  EXPECT_EQ(QueryInt(path,
                     "SELECT COUNT(*) FROM attempts a JOIN requests r ON a.request_row = r.id "
                     "AND a.request_id = r.request_id"),
            ExpectedAttempts(kTotal));
  EXPECT_EQ(QueryInt(path,
                     "SELECT COUNT(*) FROM requests r WHERE attempts_count != "
                     "(SELECT COUNT(*) FROM attempts a WHERE a.request_row = r.id)"),
            0);
  EXPECT_EQ(ledger->records_written(), static_cast<uint64_t>(kTotal));
  EXPECT_GE(ledger->batches_written(), static_cast<uint64_t>(kTotal / 64));
  EXPECT_EQ(ledger->write_errors(), 0u);
  EXPECT_EQ(ledger->records_lost(), 0u);
}

TEST(SqliteLedgerTest, EveryFieldRoundTrips) {
  TempDir dir;
  const std::string path = dir.File("ledger.db");
  auto ledger = OpenLedger({.path = path});
  ASSERT_NE(ledger, nullptr);
  Record r = MakeRecord(5);  // 2 attempts, the first one failed
  r.stream = true;
  r.ttft_ms = 42;
  r.error_code = "verification_failed";
  r.error_message = "bad \"json\"";
  r.status = 502;
  r.usage.cache_write_input_tokens = 7;
  r.usage.reasoning_tokens = 9;
  r.cost = core::Money::FromPico(12'345'678'901'234);  // 12.345678901234 USD
  ledger->Append(Record(r));
  ledger->Append(MakeRecord(6));  // no ttft
  ledger->Flush();

  auto db = detail::Db::Open(path, SQLITE_OPEN_READONLY);
  ASSERT_TRUE(db.has_value());
  auto stmt = db->Prepare(
      "SELECT request_id, started_at_ms, day, tenant, key_id, task_id, dialect, endpoint, "
      "requested_model, chosen_model, provider, input_tokens, cached_input_tokens, "
      "cache_write_input_tokens, output_tokens, reasoning_tokens, usage_reported, cost_pico, "
      "cost_usd, price_list, stream, status, error_code, error_message, route_reason, "
      "latency_ms, ttft_ms, attempts_count, task_type, profile, rule FROM requests ORDER BY id");
  ASSERT_TRUE(stmt.has_value());
  ASSERT_EQ(stmt->Step(), SQLITE_ROW);
  EXPECT_EQ(stmt->ColumnText(0), r.request_id);
  EXPECT_EQ(stmt->ColumnInt(1), r.started_at_ms);
  EXPECT_EQ(stmt->ColumnText(2), "2023-11-14");
  EXPECT_EQ(stmt->ColumnText(3), r.tenant);
  EXPECT_EQ(stmt->ColumnText(4), r.key_id);
  EXPECT_EQ(stmt->ColumnText(5), r.task_id);
  EXPECT_EQ(stmt->ColumnText(6), r.dialect);
  EXPECT_EQ(stmt->ColumnText(7), r.endpoint);
  EXPECT_EQ(stmt->ColumnText(8), r.requested_model);
  EXPECT_EQ(stmt->ColumnText(9), r.chosen_model);
  EXPECT_EQ(stmt->ColumnText(10), r.provider);
  EXPECT_EQ(stmt->ColumnInt(11), r.usage.input_tokens);
  EXPECT_EQ(stmt->ColumnInt(12), r.usage.cached_input_tokens);
  EXPECT_EQ(stmt->ColumnInt(13), 7);
  EXPECT_EQ(stmt->ColumnInt(14), r.usage.output_tokens);
  EXPECT_EQ(stmt->ColumnInt(15), 9);
  EXPECT_EQ(stmt->ColumnInt(16), 1);
  EXPECT_EQ(stmt->ColumnInt(17), 12'345'678'901'234);
  EXPECT_EQ(stmt->ColumnText(18), "12.345678901234");
  EXPECT_EQ(stmt->ColumnText(19), "standard");
  EXPECT_EQ(stmt->ColumnInt(20), 1);
  EXPECT_EQ(stmt->ColumnInt(21), 502);
  EXPECT_EQ(stmt->ColumnText(22), "verification_failed");
  EXPECT_EQ(stmt->ColumnText(23), "bad \"json\"");
  EXPECT_EQ(stmt->ColumnText(24), r.route_reason);
  EXPECT_EQ(stmt->ColumnInt(25), r.latency_ms);
  EXPECT_EQ(stmt->ColumnInt(26), 42);
  EXPECT_EQ(stmt->ColumnInt(27), 2);
  EXPECT_EQ(stmt->ColumnText(28), "code");
  EXPECT_EQ(stmt->ColumnText(29), "auto");
  EXPECT_EQ(stmt->ColumnText(30), "rule-2");
  ASSERT_EQ(stmt->Step(), SQLITE_ROW);
  EXPECT_TRUE(stmt->ColumnIsNull(26));  // no ttft recorded
  EXPECT_EQ(stmt->ColumnText(18), "0.000007000021");
  EXPECT_EQ(stmt->Step(), SQLITE_DONE);

  auto attempts = db->Prepare(
      "SELECT request_id, idx, model, provider, http_status, error_code, error_message, "
      "latency_ms FROM attempts WHERE request_id = 'req-5' ORDER BY idx");
  ASSERT_TRUE(attempts.has_value());
  for (size_t i = 0; i < r.attempts.size(); ++i) {
    ASSERT_EQ(attempts->Step(), SQLITE_ROW);
    EXPECT_EQ(attempts->ColumnInt(1), static_cast<int64_t>(i));
    EXPECT_EQ(attempts->ColumnText(2), r.attempts[i].model);
    EXPECT_EQ(attempts->ColumnText(3), r.attempts[i].provider);
    EXPECT_EQ(attempts->ColumnInt(4), r.attempts[i].http_status);
    EXPECT_EQ(attempts->ColumnText(5), r.attempts[i].error_code);
    EXPECT_EQ(attempts->ColumnText(6), r.attempts[i].error_message);
    EXPECT_EQ(attempts->ColumnInt(7), r.attempts[i].latency_ms);
  }
  EXPECT_EQ(attempts->Step(), SQLITE_DONE);
  EXPECT_EQ(r.attempts[0].error_code, "upstream_unavailable");
}

TEST(SqliteLedgerTest, DestructionWritesEverythingQueued) {
  TempDir dir;
  const std::string path = dir.File("ledger.db");
  constexpr int64_t kTotal = 1500;
  {
    // Nothing would be written before Close on its own: a long interval and a huge batch.
    auto ledger = OpenLedger(
        {.path = path, .batch_size = 1'000'000, .flush_interval = std::chrono::hours(1)});
    ASSERT_NE(ledger, nullptr);
    AppendConcurrently(*ledger, 3, kTotal / 3);
  }
  EXPECT_EQ(QueryInt(path, "SELECT COUNT(DISTINCT request_id) FROM requests"), kTotal);
  EXPECT_EQ(QueryInt(path, "SELECT COUNT(*) FROM requests"), kTotal);
  EXPECT_EQ(QueryInt(path, "SELECT COUNT(*) FROM attempts"), ExpectedAttempts(kTotal));
}

// The writer works in short bursts: wake_records queued on one shard wake it, however long the
// interval (a 200 ms backlog written at once held a worker off a shared core).
TEST(SqliteLedgerTest, WakeRecordsOnAShardWakeTheWriterBeforeTheInterval) {
  TempDir dir;
  const std::string path = dir.File("ledger.db");
  auto ledger = OpenLedger({.path = path, .wake_records = 4, .flush_interval = 1h});
  ASSERT_NE(ledger, nullptr);
  for (int64_t i = 0; i < 3; ++i) ledger->Append(MakeRecord(i));
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(ledger->records_written(), 0u);  // below the threshold: waits for the interval
  ledger->Append(MakeRecord(3));
  const auto give_up = std::chrono::steady_clock::now() + 10s;
  while (ledger->records_written() < 4 && std::chrono::steady_clock::now() < give_up) {
    std::this_thread::sleep_for(1ms);
  }
  EXPECT_EQ(ledger->records_written(), 4u);
}

// The writer thread is named, for top -H and perf.
TEST(SqliteLedgerTest, TheWriterThreadIsNamed) {
  TempDir dir;
  auto ledger = OpenLedger({.path = dir.File("ledger.db")});
  ASSERT_NE(ledger, nullptr);
  ledger->Append(MakeRecord(1));
  ledger->Flush();  // the writer has started
  int found = 0;
  for (const auto& task : std::filesystem::directory_iterator("/proc/self/task")) {
    std::ifstream comm(task.path() / "comm");
    std::string name;
    std::getline(comm, name);
    found += name == "sy-ledger" ? 1 : 0;
  }
  EXPECT_EQ(found, 1);
}

// Yielding or not, every record lands exactly once: a backlog over yield_backlog (0 here: always
// behind) and one under it (always keeping up).
TEST(SqliteLedgerTest, EveryRecordLandsWhetherTheWriterYieldsOrNot) {
  for (const size_t yield_backlog : {size_t{0}, size_t{1'000'000}}) {
    TempDir dir;
    const std::string path = dir.File("ledger.db");
    {
      auto ledger = OpenLedger({.path = path,
                                .batch_size = 64,
                                .wake_records = 8,
                                .yield_backlog = yield_backlog,
                                .flush_interval = 5ms});
      ASSERT_NE(ledger, nullptr);
      AppendConcurrently(*ledger, 2, 300);
    }
    EXPECT_EQ(QueryInt(path, "SELECT COUNT(DISTINCT request_id) FROM requests"), 600);
    EXPECT_EQ(QueryInt(path, "SELECT COUNT(*) FROM attempts"), ExpectedAttempts(600));
  }
}

TEST(SqliteLedgerTest, CloseIsIdempotentAndLaterCallsAreSafe) {
  TempDir dir;
  const std::string path = dir.File("ledger.db");
  auto ledger = OpenLedger({.path = path, .flush_interval = std::chrono::hours(1)});
  ASSERT_NE(ledger, nullptr);
  ledger->Append(MakeRecord(1));
  ledger->Close();
  EXPECT_EQ(QueryInt(path, "SELECT COUNT(*) FROM requests"), 1);
  ledger->Close();
  ledger->Flush();                // returns at once
  ledger->Append(MakeRecord(2));  // a caller bug: reported and counted, not a crash
  EXPECT_EQ(ledger->records_lost(), 1u);
  EXPECT_EQ(ledger->records_written(), 1u);
}

// A full queue spills (Append never waits); Close replays the spill into the working database.
TEST(SqliteLedgerTest, TinyQueueSpillsInsteadOfBlockingAndLosesNothing) {
  TempDir dir;
  const std::string path = dir.File("ledger.db");
  auto ledger =
      OpenLedger({.path = path, .batch_size = 2, .flush_interval = 1h, .queue_capacity = 3});
  ASSERT_NE(ledger, nullptr);
  constexpr int kThreads = 4;
  constexpr int64_t kPerThread = 150;
  AppendConcurrently(*ledger, kThreads, kPerThread);
  ledger->Close();
  EXPECT_EQ(QueryInt(path, "SELECT COUNT(DISTINCT request_id) FROM requests"),
            kThreads * kPerThread);
  EXPECT_EQ(QueryInt(path, "SELECT COUNT(*) FROM requests"), kThreads * kPerThread);
  EXPECT_EQ(ledger->records_lost(), 0u);
  EXPECT_GT(ledger->records_spilled(), 0u);
  EXPECT_EQ(ledger->spilled(), 0u);
}

// A RecordWriter over a fresh ledger file, as the SQLite ledger's writer thread uses it.
class RecordWriterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = detail::OpenForWriting(path_, 1s);
    ASSERT_TRUE(db.has_value()) << db.error().message;
    db_.emplace(std::move(*db));
    auto writer = detail::RecordWriter::Create(*db_);
    ASSERT_TRUE(writer.has_value()) << writer.error().message;
    writer_.emplace(std::move(*writer));
  }
  void TearDown() override { writer_.reset(); }  // statements before their connection

  TempDir dir_;
  const std::string path_ = dir_.File("ledger.db");
  std::optional<detail::Db> db_;
  std::optional<detail::RecordWriter> writer_;
};

// MakeRecord(0) ... MakeRecord(n - 1).
std::vector<Record> Records(int64_t n) {
  std::vector<Record> out;
  for (int64_t i = 0; i < n; ++i) out.push_back(MakeRecord(i));
  return out;
}

// A crash between a replayed batch's commit and the spill's head update leaves rows that are
// both in the database and in the spill: the next start skips them (and their attempts).
// The writer inserts live requests eight to a statement with the row ids it gives them, and their
// attempts eight to a statement: rows already in the file, a shadow inside a group's span, a
// batch that does not divide by eight and attempts that do not either must all land once, each
// attempt on its own request's row.
TEST_F(RecordWriterTest, GroupedInsertsKeepEveryRowAndItsAttempts) {
  std::vector<Record> first = {MakeRecord(100), MakeRecord(101), MakeRecord(102)};
  ASSERT_TRUE(writer_->WriteBatch(first));
  std::vector<Record> batch = Records(27);
  batch[5].shadow_of = "req-4";  // breaks the first group's span: 0-4 go one by one
  batch[5].request_id = "shadow-5";
  ASSERT_TRUE(writer_->WriteBatch(batch, {.yield_every = 4}));

  EXPECT_EQ(QueryInt(path_, "SELECT COUNT(*) FROM requests"), 3 + 26);
  EXPECT_EQ(QueryInt(path_, "SELECT COUNT(*) FROM shadows"), 1);
  EXPECT_EQ(QueryInt(path_, "SELECT COUNT(DISTINCT request_id) FROM requests"), 3 + 26);
  const int64_t attempts = ExpectedAttempts(27) - 5 % 3 + (100 % 3) + (101 % 3) + (102 % 3);
  EXPECT_EQ(QueryInt(path_, "SELECT COUNT(*) FROM attempts"), attempts);
  EXPECT_EQ(QueryInt(path_,
                     "SELECT COUNT(*) FROM attempts a JOIN requests r ON a.request_row = r.id "
                     "AND a.request_id = r.request_id"),
            attempts);
  EXPECT_EQ(QueryInt(path_,
                     "SELECT COUNT(*) FROM requests r WHERE attempts_count != "
                     "(SELECT COUNT(*) FROM attempts a WHERE a.request_row = r.id)"),
            0);
  // Ids follow the rows already there, in the batch's order, without gaps.
  EXPECT_EQ(QueryInt(path_, "SELECT MAX(id) - MIN(id) + 1 FROM requests"), 3 + 26);
  EXPECT_EQ(QueryInt(path_,
                     "SELECT COUNT(*) FROM requests a JOIN requests b ON b.id = a.id + 1 "
                     "WHERE b.started_at_ms < a.started_at_ms AND a.request_id NOT LIKE 'req-10_'"),
            0);
  EXPECT_EQ(QueryInt(path_,
                     "SELECT cost_usd = '0.000027000081' FROM requests "
                     "WHERE request_id = 'req-26'"),
            1);
}

// Retention deletes the oldest rows first, at most max_rows of each table a call, a request's
// attempts with it, and nothing that is not older than the cutoff.
TEST_F(RecordWriterTest, PruneDeletesTheOldestRowsWithTheirAttemptsInBoundedPasses) {
  const int64_t now = core::UnixMs(std::chrono::system_clock::now());
  ASSERT_TRUE(writer_->WriteBatch(test::RetentionRecords(now)));
  ASSERT_TRUE(db_->Exec(test::RetentionFeedbackSql(now).c_str()));
  const int64_t cutoff = now - 3'600'000;

  auto first = detail::PruneRows(*db_, cutoff, 8);
  ASSERT_TRUE(first.has_value()) << first.error().message;
  EXPECT_EQ(first->requests, 8);
  EXPECT_EQ(first->shadows, 1);
  EXPECT_EQ(first->feedback, 1);
  // The oldest eight live requests went (req-3 is the shadow): req-9 is the oldest left.
  EXPECT_EQ(QueryInt(path_, "SELECT MIN(started_at_ms) FROM requests"), 1'700'000'000'009);
  EXPECT_EQ(QueryInt(path_,
                     "SELECT COUNT(*) FROM attempts WHERE request_row NOT IN "
                     "(SELECT id FROM requests)"),
            0);

  auto second = detail::PruneRows(*db_, cutoff, 8);
  auto third = detail::PruneRows(*db_, cutoff, 8);
  auto fourth = detail::PruneRows(*db_, cutoff, 8);
  ASSERT_TRUE(second && third && fourth);
  EXPECT_EQ(second->requests + third->requests, test::kRetentionOldRequests - 8);
  EXPECT_EQ(third->requests, 3);  // fewer than asked: nothing older left
  EXPECT_EQ(fourth->total(), 0);
  EXPECT_EQ(
      QueryInt(path_, "SELECT COUNT(*) FROM requests WHERE started_at_ms = " + std::to_string(now)),
      4);
  EXPECT_EQ(QueryInt(path_, "SELECT COUNT(*) FROM requests"), 4);
  EXPECT_EQ(QueryInt(path_, "SELECT COUNT(*) FROM attempts"), test::kRetentionNewAttempts);
  EXPECT_EQ(QueryInt(path_, "SELECT COUNT(*) FROM shadows"), 0);
  EXPECT_EQ(QueryInt(path_, "SELECT COUNT(*) FROM feedback WHERE id = 'fb-new'"), 1);
  EXPECT_EQ(QueryInt(path_, "SELECT COUNT(*) FROM feedback"), 1);
}

// The grouped inserts are OR FAIL (no statement journal): a group that fails on a later row
// keeps its earlier rows inside the transaction, so the whole batch must roll back, the rows
// already written by earlier statements of the batch and that group's first rows alike.
TEST_F(RecordWriterTest, AGroupFailingPartWayLeavesNothingOfItsBatch) {
  ASSERT_TRUE(writer_->WriteBatch(std::vector<Record>{MakeRecord(100)}));
  // A request in the second group (its sixth row); an attempt of the second group's requests.
  const std::pair<const char*, const char*> failures[] = {{"requests", "req-13"},
                                                          {"attempts", "req-10"}};
  for (const auto& [table, failing] : failures) {
    SCOPED_TRACE(failing);
    ASSERT_TRUE(db_->Exec(("CREATE TRIGGER refuse BEFORE INSERT ON " + std::string(table) +
                           " WHEN NEW.request_id = '" + failing +
                           "' BEGIN SELECT RAISE(FAIL, 'refused'); END")
                              .c_str()));
    const core::Status written = writer_->WriteBatch(Records(16));
    ASSERT_FALSE(written);
    EXPECT_THAT(written.error().message, testing::HasSubstr("refused"));
    EXPECT_EQ(QueryInt(path_, "SELECT COUNT(*) FROM requests"), 1);
    EXPECT_EQ(QueryInt(path_, "SELECT COUNT(*) FROM attempts"),
              ExpectedAttempts(101) - ExpectedAttempts(100));
    ASSERT_TRUE(db_->Exec("DROP TRIGGER refuse"));
  }
  // The writer is still usable: the same batch lands whole.
  ASSERT_TRUE(writer_->WriteBatch(Records(16)));
  EXPECT_EQ(QueryInt(path_, "SELECT COUNT(*) FROM requests"), 17);
}

TEST(SqliteLedgerTest, AReplayedSpillSkipsRequestsAlreadyRecorded) {
  TempDir dir;
  const std::string path = dir.File("ledger.db");
  {
    auto ledger = OpenLedger({.path = path});
    ASSERT_NE(ledger, nullptr);
    ledger->Append(MakeRecord(2));  // two attempts
  }
  {
    auto spill = SpillFile::Open({.path = path + ".spill"});
    ASSERT_TRUE(spill.has_value());
    const std::vector<Record> records = {MakeRecord(2), MakeRecord(5)};
    auto appended = (*spill)->Append(records);
    ASSERT_TRUE(appended.has_value());
    ASSERT_EQ(*appended, 2u);
  }
  auto ledger = OpenLedger({.path = path});
  ASSERT_NE(ledger, nullptr);
  ledger->Close();
  EXPECT_EQ(QueryInt(path, "SELECT COUNT(*) FROM requests WHERE request_id = 'req-2'"), 1);
  EXPECT_EQ(QueryInt(path, "SELECT COUNT(*) FROM attempts WHERE request_id = 'req-2'"), 2);
  EXPECT_EQ(QueryInt(path, "SELECT COUNT(*) FROM requests WHERE request_id = 'req-5'"), 1);
  EXPECT_EQ(QueryInt(path, "SELECT COUNT(*) FROM attempts WHERE request_id = 'req-5'"), 2);
  EXPECT_EQ(ledger->spilled(), 0u);
}

TEST(SqliteLedgerTest, ReopeningAnExistingDatabaseKeepsRowsAndSchema) {
  TempDir dir;
  const std::string path = dir.File("ledger.db");
  for (int64_t round = 0; round < 3; ++round) {
    auto ledger = OpenLedger({.path = path});
    ASSERT_NE(ledger, nullptr);
    ledger->Append(MakeRecord(round));
  }
  EXPECT_EQ(QueryInt(path, "SELECT COUNT(*) FROM requests"), 3);
  EXPECT_EQ(QueryInt(path, "PRAGMA user_version"), detail::kSchemaVersion);
  EXPECT_EQ(QueryInt(path,
                     "SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND name "
                     "IN ('requests_request_id', 'requests_task_id', 'requests_started_at', "
                     "'attempts_request_row', 'requests_tenant_started_at', "
                     "'feedback_tenant_task')"),
            6);
}

// Regression: after the ledger file was deleted under a running gateway, every later record went
// into the unlinked file, counted as written and lost without a word.
TEST(SqliteLedgerTest, ALedgerFileDeletedWhileRunningIsOpenedAgainAtItsPath) {
  // With its WAL and shared-memory files, or alone (the old WAL then sits where the new file
  // looks for its own: it must not be read into it).
  for (const bool main_file_only : {false, true}) {
    SCOPED_TRACE(main_file_only ? "the main file only" : "with its -wal and -shm");
    TempDir dir;
    const std::string path = dir.File("ledger.db");
    auto ledger = OpenLedger({.path = path});
    ASSERT_NE(ledger, nullptr);
    ledger->Append(MakeRecord(0));
    ledger->Flush();
    std::filesystem::remove(path);
    if (!main_file_only) {
      for (const char* suffix : {"-wal", "-shm"}) std::filesystem::remove(path + suffix);
    }
    ledger->Append(MakeRecord(1));
    ledger->Append(MakeRecord(2));
    ledger->Flush();
    EXPECT_EQ(QueryInt(path,
                       "SELECT COUNT(*) FROM requests WHERE request_id IN "
                       "('req-1', 'req-2')"),
              2);
    EXPECT_EQ(QueryInt(path, "SELECT COUNT(*) FROM requests"), 2);
  }
}

// Renamed away, the old file keeps every row committed to it; the path gets a new ledger.
TEST(SqliteLedgerTest, ALedgerFileRenamedWhileRunningKeepsItsRows) {
  TempDir dir;
  const std::string path = dir.File("ledger.db");
  auto ledger = OpenLedger({.path = path});
  ASSERT_NE(ledger, nullptr);
  ledger->Append(MakeRecord(0));
  ledger->Append(MakeRecord(1));
  ledger->Flush();  // committed to the WAL, not yet checkpointed into the file
  std::filesystem::rename(path, path + ".old");
  ledger->Append(MakeRecord(2));
  ledger->Close();
  EXPECT_EQ(QueryInt(path, "SELECT COUNT(*) FROM requests"), 1);
  EXPECT_EQ(QueryInt(path + ".old", "SELECT COUNT(*) FROM requests"), 2);
}

// ledger.retention_days: a gateway started over an old ledger deletes what is past retention in
// its writer's first passes; the recent rows stay.
TEST(SqliteLedgerTest, RetentionDeletesWhatIsOlderOnceTheLedgerStarts) {
  TempDir dir;
  const std::string path = dir.File("ledger.db");
  const int64_t now = core::UnixMs(std::chrono::system_clock::now());
  {
    auto ledger = OpenLedger({.path = path});
    ASSERT_NE(ledger, nullptr);
    for (Record& r : test::RetentionRecords(now)) ledger->Append(std::move(r));
  }
  auto ledger = OpenLedger({.path = path, .flush_interval = 5ms, .retention = 24h});
  ASSERT_NE(ledger, nullptr);
  const auto give_up = std::chrono::steady_clock::now() + 20s;
  while (ledger->rows_pruned() < 20 && std::chrono::steady_clock::now() < give_up) {
    std::this_thread::sleep_for(5ms);
  }
  ledger->Close();
  EXPECT_EQ(ledger->rows_pruned(), 20u);  // 19 requests and the shadow
  EXPECT_EQ(ledger->prune_errors(), 0u);
  EXPECT_EQ(QueryInt(path, "SELECT COUNT(*) FROM requests"), 4);
  EXPECT_EQ(QueryInt(path, "SELECT COUNT(*) FROM attempts"), test::kRetentionNewAttempts);
  EXPECT_EQ(QueryInt(path, "SELECT COUNT(*) FROM shadows"), 0);
}

TEST(SqliteLedgerTest, AVersionOneLedgerIsMigratedInPlace) {
  TempDir dir;
  const std::string path = dir.File("ledger.db");
  {
    // A v1 file as the previous release wrote it: the v1 tables, with the columns later
    // migrations touch (v8 indexes task_id, v10 tenant and started_at_ms), and one attempt row.
    auto db = detail::Db::Open(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    ASSERT_TRUE(db.has_value());
    ASSERT_TRUE(
        db->Exec("CREATE TABLE requests (id INTEGER PRIMARY KEY, request_id TEXT NOT NULL, "
                 "task_id TEXT NOT NULL, tenant TEXT NOT NULL, started_at_ms INTEGER NOT NULL);"
                 "CREATE TABLE attempts (request_row INTEGER NOT NULL, request_id TEXT NOT NULL);"
                 "INSERT INTO attempts VALUES (1, 'old');"
                 "PRAGMA user_version = 1;"));
  }
  auto migrated = detail::Db::Open(path, SQLITE_OPEN_READWRITE);
  ASSERT_TRUE(migrated.has_value());
  ASSERT_TRUE(detail::EnsureSchema(*migrated));
  EXPECT_EQ(QueryInt(path, "PRAGMA user_version"), detail::kSchemaVersion);
  EXPECT_EQ(QueryInt(path, "SELECT cost_pico + output_tokens + usage_estimated FROM attempts"), 0);
  EXPECT_EQ(QueryInt(path, "SELECT COUNT(*) FROM attempts WHERE outcome = ''"), 1);
  EXPECT_EQ(QueryInt(path,
                     "SELECT COUNT(*) FROM pragma_table_info('requests') "
                     "WHERE name = 'usage_estimated'"),
            1);
  EXPECT_EQ(QueryInt(path,
                     "SELECT COUNT(*) FROM pragma_table_info('requests') "
                     "WHERE name IN ('task_type', 'profile', 'rule')"),
            3);
}

TEST(SqliteLedgerTest, AVersionTwoLedgerIsMigratedAndKeepsItsRows) {
  TempDir dir;
  const std::string path = dir.File("ledger.db");
  {
    auto db = detail::Db::Open(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    ASSERT_TRUE(db.has_value());
    ASSERT_TRUE(db->Exec(test::kVersionTwoLedger));
  }
  auto ledger = OpenLedger({.path = path});  // the gateway's own open path migrates
  ASSERT_NE(ledger, nullptr);
  Record r = MakeRecord(4);
  r.task_type = "extraction";
  r.profile = "auto";
  r.rule = "cheap-extraction";
  ledger->Append(std::move(r));
  ledger->Close();

  EXPECT_EQ(QueryInt(path, "PRAGMA user_version"), detail::kSchemaVersion);
  EXPECT_EQ(QueryInt(path, "SELECT COUNT(*) FROM requests"), 3);
  // v4: the response store's table and its expiry index.
  EXPECT_EQ(QueryInt(path,
                     "SELECT COUNT(*) FROM sqlite_master WHERE name IN ('responses', "
                     "'responses_expires_at')"),
            2);
  EXPECT_EQ(QueryInt(path, "SELECT cost_pico FROM requests WHERE request_id = 'old-1'"),
            1'234'567'890'123);
  EXPECT_EQ(QueryInt(path, "SELECT status FROM requests WHERE request_id = 'old-2'"), 502);
  EXPECT_EQ(QueryInt(path, "SELECT cost_pico FROM attempts WHERE request_id = 'old-1'"),
            1'234'567'890'123);
  // Old rows: the new columns exist and are '' (not NULL).
  EXPECT_EQ(QueryInt(path,
                     "SELECT COUNT(*) FROM requests WHERE request_id LIKE 'old-%' AND "
                     "task_type = '' AND profile = '' AND rule = ''"),
            2);
  EXPECT_EQ(QueryInt(path,
                     "SELECT COUNT(*) FROM requests WHERE request_id = 'req-4' AND task_type = "
                     "'extraction' AND profile = 'auto' AND rule = 'cheap-extraction'"),
            1);
  EXPECT_EQ(QueryInt(path,
                     "SELECT COUNT(*) FROM pragma_table_info('requests') WHERE name IN "
                     "('task_type', 'profile', 'rule') AND \"notnull\" = 1 AND dflt_value = "
                     "\"''\""),
            3);
  // v5: old attempts have no deployment and no verdict ('').
  EXPECT_EQ(QueryInt(path,
                     "SELECT COUNT(*) FROM attempts WHERE request_id LIKE 'old-%' AND "
                     "deployment = '' AND verdict = ''"),
            QueryInt(path, "SELECT COUNT(*) FROM attempts WHERE request_id LIKE 'old-%'"));
}

TEST(SqliteLedgerTest, AttemptsKeepTheirOutcomeUsageAndCost) {
  TempDir dir;
  const std::string path = dir.File("ledger.db");
  auto ledger = OpenLedger({.path = path});
  ASSERT_NE(ledger, nullptr);
  Record r = MakeRecord(2);  // two attempts
  r.attempts[0].outcome = "failed";
  r.attempts[0].usage.output_tokens = 7;
  r.attempts[0].usage.estimated = true;
  r.attempts[0].cost = core::Money::FromPico(123);
  r.attempts[1].outcome = "ok";
  r.usage.estimated = true;
  ledger->Append(std::move(r));
  ledger->Flush();
  EXPECT_EQ(QueryInt(path, "SELECT output_tokens FROM attempts WHERE idx = 0"), 7);
  EXPECT_EQ(QueryInt(path, "SELECT usage_estimated FROM attempts WHERE idx = 0"), 1);
  EXPECT_EQ(QueryInt(path, "SELECT cost_pico FROM attempts WHERE idx = 0"), 123);
  EXPECT_EQ(QueryInt(path, "SELECT COUNT(*) FROM attempts WHERE outcome = 'ok' AND idx = 1"), 1);
  EXPECT_EQ(QueryInt(path, "SELECT usage_estimated FROM requests"), 1);
}

TEST(SqliteLedgerTest, AttemptsKeepTheirDeploymentAndVerdict) {
  TempDir dir;
  const std::string path = dir.File("ledger.db");
  auto ledger = OpenLedger({.path = path});
  ASSERT_NE(ledger, nullptr);
  Record r = MakeRecord(2);  // two attempts
  r.attempts[0].outcome = "rejected";
  r.attempts[0].deployment = "self-hosted";
  r.attempts[0].verdict = "rejected: json_schema: /age: expected integer";
  r.attempts[1].outcome = "ok";
  r.attempts[1].deployment = "openai";
  r.attempts[1].verdict = "passed";
  r.verify = "checks=json_schema; result=passed; attempt=2";
  ledger->Append(std::move(r));
  ledger->Flush();
  auto db = detail::Db::Open(path, SQLITE_OPEN_READONLY);
  ASSERT_TRUE(db.has_value());
  auto attempts = db->Prepare("SELECT outcome, deployment, verdict FROM attempts ORDER BY idx");
  ASSERT_TRUE(attempts.has_value());
  ASSERT_EQ(attempts->Step(), SQLITE_ROW);
  EXPECT_EQ(attempts->ColumnText(0), "rejected");
  EXPECT_EQ(attempts->ColumnText(1), "self-hosted");
  EXPECT_EQ(attempts->ColumnText(2), "rejected: json_schema: /age: expected integer");
  ASSERT_EQ(attempts->Step(), SQLITE_ROW);
  EXPECT_EQ(attempts->ColumnText(0), "ok");
  EXPECT_EQ(attempts->ColumnText(1), "openai");
  EXPECT_EQ(attempts->ColumnText(2), "passed");
  auto request = db->Prepare("SELECT verify FROM requests");
  ASSERT_TRUE(request.has_value());
  ASSERT_EQ(request->Step(), SQLITE_ROW);
  EXPECT_EQ(request->ColumnText(0), "checks=json_schema; result=passed; attempt=2");
}

TEST(SqliteLedgerTest, OpenUsesWalMode) {
  TempDir dir;
  const std::string path = dir.File("ledger.db");
  auto ledger = OpenLedger({.path = path});
  ASSERT_NE(ledger, nullptr);
  auto db = detail::Db::Open(path, SQLITE_OPEN_READONLY);
  ASSERT_TRUE(db.has_value());
  auto mode = db->QueryText("PRAGMA journal_mode");
  ASSERT_TRUE(mode.has_value());
  EXPECT_EQ(*mode, "wal");
}

// The permission bits of `path`, or -1 when it does not exist.
int ModeOf(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return -1;
  return static_cast<int>(st.st_mode & 0777);
}

// Regression: the ledger (error text, request metadata) used to be created with the umask's
// mode, typically world-readable 0644.
TEST(SqliteLedgerTest, NewFileAndItsWalAreOwnerOnly) {
  const mode_t umask_before = ::umask(022);  // the common default, which allows 0644
  TempDir dir;
  const std::string path = dir.File("ledger.db");
  auto ledger = OpenLedger({.path = path, .flush_interval = std::chrono::hours(1)});
  ASSERT_NE(ledger, nullptr);
  ledger->Append(MakeRecord(1));
  ledger->Flush();
  EXPECT_EQ(ModeOf(path), 0600);
  EXPECT_EQ(ModeOf(path + "-wal"), 0600);
  EXPECT_EQ(ModeOf(path + "-shm"), 0600);
  ::umask(umask_before);
}

TEST(SqliteLedgerTest, ExistingFileKeepsItsMode) {
  TempDir dir;
  const std::string path = dir.File("ledger.db");
  { std::ofstream create(path); }
  ASSERT_EQ(::chmod(path.c_str(), 0640), 0);
  auto ledger = OpenLedger({.path = path});
  ASSERT_NE(ledger, nullptr);
  EXPECT_EQ(ModeOf(path), 0640);
}

TEST(SqliteLedgerTest, OpenFailsClearlyWhenTheFileCannotBeCreated) {
  TempDir dir;
  const std::string path = dir.File("no/such/dir/ledger.db");
  auto ledger = SqliteLedger::Open({.path = path});
  ASSERT_FALSE(ledger.has_value());
  EXPECT_EQ(ledger.error().code, core::Errc::kInternal);
  EXPECT_THAT(ledger.error().message, ::testing::HasSubstr(path));
}

TEST(SqliteLedgerTest, OpenRefusesANewerSchema) {
  TempDir dir;
  const std::string path = dir.File("ledger.db");
  {
    auto db = detail::Db::Open(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    ASSERT_TRUE(db.has_value());
    ASSERT_TRUE(db->Exec("PRAGMA user_version = 99").has_value());
  }
  auto ledger = SqliteLedger::Open({.path = path});
  ASSERT_FALSE(ledger.has_value());
  EXPECT_THAT(ledger.error().message, ::testing::HasSubstr("newer"));
}

TEST(SqliteLedgerTest, OpenRejectsAFileThatIsNotADatabase) {
  TempDir dir;
  const std::string path = dir.File("notes.txt");
  {
    auto db = detail::Db::Open(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    ASSERT_TRUE(db.has_value());
  }
  std::FILE* f = std::fopen(path.c_str(), "wb");
  ASSERT_NE(f, nullptr);
  std::fputs("this is not a database, just some text that is long enough to look at\n", f);
  std::fclose(f);
  auto ledger = SqliteLedger::Open({.path = path});
  ASSERT_FALSE(ledger.has_value());
  EXPECT_THAT(ledger.error().message, ::testing::HasSubstr(path));
}

// A busy database (another writer holds the lock) fails the batch; the writer spills it, probes
// again and replays it once the lock is released.
TEST(SqliteLedgerTest, BusyDatabaseSpillsTheBatchAndReplaysIt) {
  TempDir dir;
  const std::string path = dir.File("ledger.db");
  auto ledger =
      OpenLedger({.path = path, .flush_interval = 1ms, .busy_timeout = 0ms, .max_backoff = 5ms});
  ASSERT_NE(ledger, nullptr);
  auto blocker = detail::Db::Open(path, SQLITE_OPEN_READWRITE);
  ASSERT_TRUE(blocker.has_value());
  ASSERT_TRUE(blocker->Exec("BEGIN IMMEDIATE").has_value());

  ledger->Append(MakeRecord(1));
  // Wait (bounded) until the writer has hit the lock at least once.
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (ledger->write_errors() == 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::yield();
  }
  ASSERT_GT(ledger->write_errors(), 0u);
  ledger->Flush();
  EXPECT_EQ(ledger->spilled(), 1u);  // kept on disk, not in memory
  EXPECT_EQ(ledger->queued(), 0u);
  ASSERT_TRUE(blocker->Exec("ROLLBACK").has_value());
  while (ledger->spilled() > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(1ms);
  }
  EXPECT_EQ(ledger->spilled(), 0u);
  EXPECT_EQ(QueryInt(path, "SELECT COUNT(*) FROM requests WHERE request_id = 'req-1'"), 1);
  EXPECT_EQ(ledger->records_written(), 1u);
  EXPECT_EQ(ledger->records_lost(), 0u);
}

TEST(SqliteLedgerTest, UtcDay) {
  EXPECT_EQ(detail::UtcDay(0), "1970-01-01");
  EXPECT_EQ(detail::UtcDay(-1), "1969-12-31");
  EXPECT_EQ(detail::UtcDay(1'700'000'000'000), "2023-11-14");
  EXPECT_EQ(detail::UtcDay(951'782'400'000), "2000-02-29");
  EXPECT_EQ(detail::UtcDay(951'868'799'999), "2000-02-29");
  EXPECT_EQ(detail::UtcDay(253'402'300'799'999), "9999-12-31");
  EXPECT_EQ(detail::UtcDay(253'402'300'800'000), "10000-01-01");  // past the hand-formatted range
  EXPECT_EQ(detail::UtcDay(-62'135'596'800'000), "0001-01-01");
}

}  // namespace
}  // namespace sy::ledger
