// The ledger on a real PostgreSQL (tests/testutil/pg_server.h): one server for the binary, one
// database per test.
#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/clock.h"
#include "ledger/detail/pg_test_util.h"
#include "ledger/detail/postgres.h"
#include "ledger/detail/test_util.h"
#include "ledger/postgres_ledger.h"
#include "tests/testutil/pg_server.h"

namespace sy::ledger {
namespace {

using namespace std::chrono_literals;
using test::ExpectedAttempts;
using test::MakeRecord;
using test::TempDir;
using testutil::PgServer;

PgServer& Server() { return testutil::SharedPgServer(); }

std::string FreshDatabase() { return testutil::FreshPgDatabase(); }

PostgresLedger::Options Options(const std::string& url, const TempDir& dir) {
  PostgresLedger::Options options;
  options.url = url;
  options.queue.flush_interval = 5ms;
  options.queue.batch_size = 64;
  options.queue.max_backoff = 50ms;
  options.queue.spill_path = dir.File("spill");
  return options;
}

std::unique_ptr<PostgresLedger> Open(const PostgresLedger::Options& options) {
  auto ledger = PostgresLedger::Open(options);
  EXPECT_TRUE(ledger.has_value()) << (ledger ? "" : ledger.error().message);
  return ledger ? std::move(*ledger) : nullptr;
}

TEST(PostgresLedgerTest, RecordsLandWithEveryFieldAndTheirAttempts) {
  TempDir dir;
  const std::string url = FreshDatabase();
  auto ledger = Open(Options(url, dir));
  ASSERT_NE(ledger, nullptr);
  constexpr int64_t kTotal = 200;  // over several batches and statements
  int64_t cost_pico = 0;
  for (int64_t i = 0; i < kTotal; ++i) {
    Record r = MakeRecord(i);
    cost_pico += r.cost.pico();
    if (i == 7) {
      r.ttft_ms = 42;
      r.error_message = std::string("bad \xff byte and a \0 NUL", 22);  // PostgreSQL refuses both
    }
    ledger->Append(std::move(r));
  }
  ledger->Flush();
  EXPECT_EQ(test::PgQuery(url, "SELECT count(*) FROM requests"), std::to_string(kTotal));
  EXPECT_EQ(test::PgQuery(url, "SELECT count(*) FROM attempts"),
            std::to_string(ExpectedAttempts(kTotal)));
  EXPECT_EQ(test::PgQuery(url, "SELECT sum(cost_pico) FROM requests"), std::to_string(cost_pico));
  EXPECT_EQ(test::PgQuery(url, "SELECT sum(cost_pico) FROM attempts"),
            "0");  // MakeRecord's attempts
  EXPECT_EQ(
      test::PgQuery(url,
                    "SELECT concat_ws('|', day, tenant, dialect, input_tokens, usage_reported, "
                    "cost_usd, ttft_ms, attempts_count, task_type, rule, error_message) "
                    "FROM requests WHERE request_id = 'req-7'"),
      "2023-11-14|tenant-1|anthropic|107|1|0.000008000024|42|1|code|rule-1|"
      "bad \xEF\xBF\xBD byte and a \xEF\xBF\xBD NUL");
  EXPECT_EQ(test::PgQuery(url, "SELECT count(*) FROM requests WHERE ttft_ms IS NULL"),
            std::to_string(kTotal - 1));
  EXPECT_EQ(test::PgQuery(url,
                          "SELECT concat_ws('|', a.idx, a.model, a.http_status, a.error_code) FROM "
                          "attempts a JOIN requests r ON r.id = a.request_row WHERE r.request_id = "
                          "'req-5' AND a.idx = 0"),
            "0|model-0|503|upstream_unavailable");
  EXPECT_EQ(test::PgQuery(url, "SELECT version FROM switchyard_schema"),
            std::to_string(detail::kPgSchemaVersion));
  EXPECT_THAT(test::PgQuery(url,
                            "SELECT indexdef FROM pg_indexes WHERE indexname = "
                            "'requests_task_id'"),
              testing::HasSubstr("WHERE (task_id <> ''::text)"));
  EXPECT_EQ(ledger->records_written(), static_cast<uint64_t>(kTotal));
}

// The same batch written twice (a spill replayed after a crash between commit and head update)
// leaves one row per request and does not double its attempts.
TEST(PostgresLedgerTest, WritingABatchAgainIsIdempotentByRequestId) {
  const std::string url = FreshDatabase();
  auto target = detail::ParsePgTarget(url);
  ASSERT_TRUE(target.has_value());
  detail::PgRecordWriter writer(*target, 5s);
  ASSERT_TRUE(writer.Connect().has_value());
  const std::vector<Record> first = {MakeRecord(1), MakeRecord(2)};
  const std::vector<Record> again = {MakeRecord(2), MakeRecord(5)};
  ASSERT_TRUE(writer.WriteBatch(first, {}).has_value());
  ASSERT_TRUE(writer.WriteBatch(again, {.replay = true}).has_value());
  EXPECT_EQ(test::PgQuery(url, "SELECT count(*) FROM requests"), "3");
  EXPECT_EQ(test::PgQuery(url, "SELECT count(*) FROM attempts WHERE request_id = 'req-2'"), "2");
  EXPECT_EQ(test::PgQuery(url, "SELECT count(*) FROM attempts WHERE request_id = 'req-5'"), "2");
}

// A batch is sent as prepared statements of 256, 64, 16, 4 and 1 rows: 343 records use each
// size, their attempts too, and every row lands once.
TEST(PostgresLedgerTest, ABatchOfAnySizeIsCutIntoThePreparedStatements) {
  const std::string url = FreshDatabase();
  auto target = detail::ParsePgTarget(url);
  ASSERT_TRUE(target.has_value());
  detail::PgRecordWriter writer(*target, 5s);
  ASSERT_TRUE(writer.Connect().has_value());
  std::vector<Record> batch;
  for (int64_t i = 0; i < 343; ++i) batch.push_back(MakeRecord(i));
  for (const size_t size : {size_t{343}, size_t{5}}) {  // the second reuses the statements
    const auto records = std::span<const Record>(batch).first(size);
    auto written = writer.WriteBatch(records, {});
    ASSERT_TRUE(written.has_value()) << written.error().message;
  }
  EXPECT_EQ(test::PgQuery(url, "SELECT count(*) FROM requests"), "343");
  EXPECT_EQ(test::PgQuery(url, "SELECT count(*) FROM attempts"),
            std::to_string(ExpectedAttempts(343)));
  EXPECT_EQ(
      test::PgQuery(url,
                    "SELECT count(*) FROM requests r WHERE attempts_count <> (SELECT count(*) "
                    "FROM attempts a WHERE a.request_row = r.id)"),
      "0");
}

// Replicas starting together: the advisory lock lets one migrate and the others find it done.
// Retention on PostgreSQL: the scenario and the counts of the SQLite engine's test
// (RecordWriterTest.PruneDeletesTheOldestRowsWithTheirAttemptsInBoundedPasses).
TEST(PostgresLedgerTest, PruneDeletesTheOldestRowsWithTheirAttemptsInBoundedPasses) {
  const std::string url = FreshDatabase();
  auto target = detail::ParsePgTarget(url);
  ASSERT_TRUE(target.has_value());
  detail::PgRecordWriter writer(*target, 5s);
  ASSERT_TRUE(writer.Connect());
  const int64_t now = core::UnixMs(std::chrono::system_clock::now());
  ASSERT_TRUE(writer.WriteBatch(test::RetentionRecords(now), {}));
  ASSERT_EQ(test::PgQuery(url, test::RetentionFeedbackSql(now) + " RETURNING 1"), "1");
  const int64_t cutoff = now - 3'600'000;

  auto first = writer.Prune(cutoff, 8);
  ASSERT_TRUE(first.has_value()) << first.error().message;
  EXPECT_EQ(first->requests, 8);
  EXPECT_EQ(first->shadows, 1);
  EXPECT_EQ(first->feedback, 1);
  EXPECT_EQ(test::PgQuery(url, "SELECT min(started_at_ms) FROM requests"), "1700000000009");

  auto second = writer.Prune(cutoff, 8);
  auto third = writer.Prune(cutoff, 8);
  auto fourth = writer.Prune(cutoff, 8);
  ASSERT_TRUE(second && third && fourth);
  EXPECT_EQ(second->requests + third->requests, test::kRetentionOldRequests - 8);
  EXPECT_EQ(third->requests, 3);
  EXPECT_EQ(fourth->total(), 0);
  EXPECT_EQ(test::PgQuery(
                url, "SELECT count(*) FROM requests WHERE started_at_ms = " + std::to_string(now)),
            "4");
  EXPECT_EQ(test::PgQuery(url, "SELECT count(*) FROM requests"), "4");
  EXPECT_EQ(test::PgQuery(url, "SELECT count(*) FROM attempts"),
            std::to_string(test::kRetentionNewAttempts));
  EXPECT_EQ(test::PgQuery(url, "SELECT count(*) FROM shadows"), "0");
  EXPECT_EQ(test::PgQuery(url, "SELECT string_agg(id, ',') FROM feedback"), "fb-new");
}

// The ledger's retention option reaches the PostgreSQL writer: a start over old rows deletes them.
TEST(PostgresLedgerTest, RetentionDeletesWhatIsOlderOnceTheLedgerStarts) {
  TempDir dir;
  const std::string url = FreshDatabase();
  const int64_t now = core::UnixMs(std::chrono::system_clock::now());
  {
    auto ledger = Open(Options(url, dir));
    ASSERT_NE(ledger, nullptr);
    for (Record& r : test::RetentionRecords(now)) ledger->Append(std::move(r));
  }
  PostgresLedger::Options options = Options(url, dir);
  options.queue.retention = 24h;
  auto ledger = Open(options);
  ASSERT_NE(ledger, nullptr);
  const auto give_up = std::chrono::steady_clock::now() + 20s;
  while (ledger->rows_pruned() < 20 && std::chrono::steady_clock::now() < give_up) {
    std::this_thread::sleep_for(5ms);
  }
  ledger->Close();
  EXPECT_EQ(ledger->rows_pruned(), 20u);
  EXPECT_EQ(test::PgQuery(url, "SELECT count(*) FROM requests"), "4");
  EXPECT_EQ(test::PgQuery(url, "SELECT count(*) FROM attempts"),
            std::to_string(test::kRetentionNewAttempts));
}

TEST(PostgresLedgerTest, ReplicasStartingTogetherMigrateOnce) {
  const std::string url = FreshDatabase();
  std::vector<TempDir> dirs(4);
  std::atomic<int> opened{0};
  std::vector<std::thread> replicas;
  for (auto& dir : dirs) {
    replicas.emplace_back([&] {
      auto ledger = PostgresLedger::Open(Options(url, dir));
      EXPECT_TRUE(ledger.has_value()) << (ledger ? "" : ledger.error().message);
      if (ledger) ++opened;
    });
  }
  for (auto& replica : replicas) replica.join();
  EXPECT_EQ(opened.load(), 4);
  EXPECT_EQ(test::PgQuery(url, "SELECT count(*) || ':' || max(version) FROM switchyard_schema"),
            "1:" + std::to_string(detail::kPgSchemaVersion));
}

// PostgreSQL stopped under load and restarted: the writer spills, reconnects, replays; every
// record is there once.
TEST(PostgresLedgerTest, AServerRestartUnderLoadLosesAndDoublesNothing) {
  TempDir dir;
  const std::string url = FreshDatabase();
  auto ledger = Open(Options(url, dir));
  ASSERT_NE(ledger, nullptr);
  std::atomic<bool> stop{false};
  std::atomic<int64_t> appended{0};
  std::thread producer([&] {
    for (int64_t i = 0; !stop; ++i) {
      ledger->Append(MakeRecord(i));
      appended = i + 1;
      std::this_thread::sleep_for(200us);
    }
  });
  std::this_thread::sleep_for(300ms);
  ASSERT_TRUE(Server().Stop().has_value());
  std::this_thread::sleep_for(1500ms);
  ASSERT_TRUE(Server().Restart().has_value());
  std::this_thread::sleep_for(300ms);
  stop = true;
  producer.join();
  const auto give_up = std::chrono::steady_clock::now() + 30s;
  while ((ledger->spilled() > 0 || ledger->queued() > 0) &&
         std::chrono::steady_clock::now() < give_up) {
    std::this_thread::sleep_for(5ms);
  }
  ledger->Flush();
  const std::string n = std::to_string(appended.load());
  EXPECT_EQ(test::PgQuery(url, "SELECT count(*) FROM requests"), n);
  EXPECT_EQ(test::PgQuery(url, "SELECT count(DISTINCT request_id) FROM requests"), n);
  EXPECT_EQ(test::PgQuery(url, "SELECT count(*) FROM attempts"),
            std::to_string(ExpectedAttempts(appended)));
  EXPECT_GT(ledger->write_errors(), 0u);
  EXPECT_GT(ledger->records_spilled(), 0u);
  EXPECT_EQ(ledger->records_lost(), 0u);
  EXPECT_EQ(ledger->spilled(), 0u);
}

// A value PostgreSQL refuses (a constraint, SQLSTATE class 23) is the record's, not the
// connection's: it is set aside and the rest of its batch lands.
TEST(PostgresLedgerTest, ARecordPostgresRefusesIsSetAsideAndTheRestLands) {
  TempDir dir;
  const std::string url = FreshDatabase();
  auto ledger = Open(Options(url, dir));
  ASSERT_NE(ledger, nullptr);
  test::PgQuery(
      url,
      "ALTER TABLE requests ADD CONSTRAINT no_poison CHECK (tenant <> 'poison') NOT VALID; "
      "SELECT 1");
  for (int64_t i = 0; i < 20; ++i) {
    Record r = MakeRecord(i);
    if (i == 7) r.tenant = "poison";
    ledger->Append(std::move(r));
  }
  ledger->Flush();
  EXPECT_EQ(test::PgQuery(url, "SELECT count(*) FROM requests"), "19");
  EXPECT_EQ(test::PgQuery(url, "SELECT count(*) FROM requests WHERE request_id = 'req-7'"), "0");
  EXPECT_EQ(ledger->records_rejected(), 1u);
  EXPECT_EQ(ledger->spilled(), 0u);
  EXPECT_EQ(ledger->records_lost(), 0u);
}

TEST(PostgresLedgerTest, OpenFailsClearlyAndNeverShowsThePassword) {
  TempDir dir;
  auto options = Options("postgresql://someone:s3cr3t-pw@127.0.0.1:1/nowhere", dir);
  options.connect_timeout = 1s;
  auto refused = PostgresLedger::Open(options);
  ASSERT_FALSE(refused.has_value());
  EXPECT_THAT(refused.error().message, ::testing::HasSubstr("someone@127.0.0.1:1/nowhere"));
  EXPECT_THAT(refused.error().message, ::testing::Not(::testing::HasSubstr("s3cr3t-pw")));

  options.url = "postgresql://u:s3cr3t-pw@127.0.0.1:notaport/db";
  auto malformed = PostgresLedger::Open(options);
  ASSERT_FALSE(malformed.has_value());
  EXPECT_THAT(malformed.error().message, ::testing::Not(::testing::HasSubstr("s3cr3t-pw")));
}

TEST(PostgresLedgerTest, ANewerSchemaIsRefused) {
  TempDir dir;
  const std::string url = FreshDatabase();
  { ASSERT_NE(Open(Options(url, dir)), nullptr); }
  test::PgQuery(url, "UPDATE switchyard_schema SET version = 99 RETURNING version");
  auto refused = PostgresLedger::Open(Options(url, dir));
  ASSERT_FALSE(refused.has_value());
  EXPECT_THAT(refused.error().message, ::testing::HasSubstr("newer than this binary"));
}

TEST(PgSafeTextTest, RepairsWhatPostgresRefusesAndCopiesNothingElse) {
  struct Case {
    std::string in;
    bool repaired;
    std::string out;
  };
  const std::vector<Case> cases = {
      {"plain", false, ""},
      {"caf\xC3\xA9 \xF0\x9F\x98\x80", false, ""},  // 2- and 4-byte characters
      {std::string("a\0b", 3), true,
       "a\xEF\xBF\xBD"
       "b"},
      {"\xFF", true, "\xEF\xBF\xBD"},
      {"cut \xE2\x82", true, "cut \xEF\xBF\xBD\xEF\xBF\xBD"},          // truncated character
      {"\xC0\xAF", true, "\xEF\xBF\xBD\xEF\xBF\xBD"},                  // overlong '/'
      {"\xED\xA0\x80", true, "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"},  // a surrogate
  };
  for (const Case& c : cases) {
    std::string fixed;
    EXPECT_EQ(detail::PgSafeText(c.in, fixed), c.repaired) << c.in;
    if (c.repaired) {
      EXPECT_EQ(fixed, c.out) << c.in;
    }
  }
}

}  // namespace
}  // namespace sy::ledger
