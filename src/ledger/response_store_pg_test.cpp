// ResponseStore on PostgreSQL: the cases both engines pass (detail/response_store_test_cases.h),
// and what only PostgreSQL has: replicas sharing one database, server restarts, and schema
// versions.
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "ledger/detail/pg_test_util.h"
#include "ledger/detail/postgres.h"
#include "ledger/detail/response_store_test_cases.h"
#include "ledger/detail/test_util.h"
#include "ledger/postgres_ledger.h"
#include "tests/testutil/pg_server.h"

namespace sy::ledger {
namespace {

using namespace std::chrono_literals;
using test::kT0;
using test::PutChain;
using test::ResponseStoreTest;
using test::TempDir;
using test::Turn;
using test::Visible;
using ::testing::HasSubstr;
using ::testing::Not;

// A fresh database on the binary's server whose schema the gateway's PostgresLedger created.
class PostgresResponsesDb final : public test::ResponsesTestDb {
 public:
  const std::string& location() const override { return url_; }
  int64_t QueryInt(const std::string& sql) override {
    return std::strtoll(test::PgQuery(url_, sql).c_str(), nullptr, 10);
  }

 private:
  TempDir dir_;
  std::string url_ = test::MigratedPgDatabase(dir_.File("spill"));
};

std::unique_ptr<test::ResponsesTestDb> MakePostgresDb() {
  return std::make_unique<PostgresResponsesDb>();
}

INSTANTIATE_TEST_SUITE_P(Postgres, ResponseStoreTest, ::testing::Values(&MakePostgresDb));

std::unique_ptr<ResponseStore> OpenStore(const std::string& url,
                                         ResponseStore::Options options = {}) {
  options.location = url;
  auto store = ResponseStore::Open(options);
  EXPECT_TRUE(store.has_value()) << (store ? "" : store.error().message);
  return store ? std::move(*store) : nullptr;
}

// Two replicas on one database: a conversation started on one continues on the other, which can
// also read and delete what the first stored.
TEST(ResponsesOnPostgresTest, AConversationStartedOnOneReplicaContinuesOnAnother) {
  PostgresResponsesDb db;
  auto a = OpenStore(db.location());
  auto b = OpenStore(db.location());
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  ASSERT_TRUE(a->Put(Turn("resp_1", "", kT0)));
  ASSERT_TRUE(b->Put(Turn("resp_2", "resp_1", kT0 + 1s)));
  ASSERT_TRUE(a->Put(Turn("resp_3", "resp_2", kT0 + 2s)));

  auto chain = b->Conversation("resp_3", "key-a", kT0 + 3s, 10, 1 << 20);
  ASSERT_TRUE(chain.has_value()) << chain.error().message;
  ASSERT_EQ(chain->size(), 3u);
  EXPECT_EQ((*chain)[0].id, "resp_1");
  EXPECT_EQ((*chain)[2].id, "resp_3");
  auto deleted = b->Delete("resp_1", "key-a", kT0 + 3s);
  ASSERT_TRUE(deleted.has_value() && *deleted);
  EXPECT_FALSE(Visible(*a, "resp_1", "key-a", kT0 + 3s));
}

// Replicas sweeping the same expired rows at once delete each row once between them.
TEST(ResponsesOnPostgresTest, ConcurrentSweepsDeleteEachExpiredRowOnce) {
  PostgresResponsesDb db;
  const ResponseStore::Options quiet{.retention = 1h, .sweep_every_puts = 1'000'000};
  auto writer = OpenStore(db.location(), quiet);
  ASSERT_NE(writer, nullptr);
  constexpr int kRows = 400;
  // Of several owners: each deleted row's trigger locks its owner's byte count.
  for (int i = 0; i < kRows; ++i) {
    ASSERT_TRUE(writer->Put(
        Turn("old_" + std::to_string(i), "", kT0 - 2h + i * 1ms, "key-" + std::to_string(i % 7))));
  }
  std::vector<std::unique_ptr<ResponseStore>> replicas;
  for (int i = 0; i < 4; ++i) replicas.push_back(OpenStore(db.location(), quiet));
  std::atomic<int64_t> swept{0};
  std::atomic<int> failures{0};
  std::vector<std::thread> sweepers;
  for (auto& replica : replicas) {
    ASSERT_NE(replica, nullptr);
    sweepers.emplace_back([&, store = replica.get()] {
      for (;;) {
        auto n = store->Sweep(kT0, 25);
        if (!n) ++failures;
        if (!n || *n == 0) return;
        swept += *n;
      }
    });
  }
  for (auto& sweeper : sweepers) sweeper.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(swept.load(), kRows);
  EXPECT_EQ(db.QueryInt("SELECT COUNT(*) FROM responses"), 0);
  EXPECT_EQ(db.QueryInt("SELECT COALESCE(SUM(bytes), 0) FROM response_owners"), 0);
}

// A server restart breaks every connection: the next call opens a new one and succeeds, a Put
// included (nothing stored twice, nothing lost).
TEST(ResponsesOnPostgresTest, CallsSucceedAcrossAServerRestart) {
  PostgresResponsesDb db;
  auto store = OpenStore(db.location(), {.connections = 2});
  ASSERT_NE(store, nullptr);
  PutChain(*store, 2);
  ASSERT_TRUE(testutil::SharedPgServer().Stop().has_value());
  ASSERT_TRUE(testutil::SharedPgServer().Restart().has_value());

  ASSERT_TRUE(store->Put(Turn("resp_3", "resp_2", kT0 + 3s)));
  auto chain = store->Conversation("resp_3", "key-a", kT0 + 4s, 10, 1 << 20);
  ASSERT_TRUE(chain.has_value()) << chain.error().message;
  EXPECT_EQ(chain->size(), 3u);
  EXPECT_EQ(db.QueryInt("SELECT COUNT(*) FROM responses"), 3);
}

TEST(ResponsesOnPostgresTest, OpeningChecksTheSchemaAndNamesNoPassword) {
  const std::string url = testutil::FreshPgDatabase();
  auto never = ResponseStore::Open(url, 24h);  // no gateway created its schema
  ASSERT_FALSE(never.has_value());
  EXPECT_EQ(never.error().code, core::Errc::kInternal);
  EXPECT_THAT(never.error().message, HasSubstr("ledger schema version 0 has no responses table"));

  PostgresResponsesDb db;
  test::PgQuery(db.location(), "UPDATE switchyard_schema SET version = 3; SELECT 1");
  auto older = ResponseStore::Open(db.location(), 24h);
  ASSERT_FALSE(older.has_value());
  EXPECT_THAT(older.error().message, HasSubstr("ledger schema version 3 has no responses table"));
  test::PgQuery(db.location(), "UPDATE switchyard_schema SET version = 99; SELECT 1");
  auto newer = ResponseStore::Open(db.location(), 24h);
  ASSERT_FALSE(newer.has_value());
  EXPECT_THAT(newer.error().message, HasSubstr("newer than this binary"));

  const std::string wrong = "postgresql://switchyard:hunter2-secret@127.0.0.1:1/none";
  auto unreachable = ResponseStore::Open({.location = wrong, .connect_timeout = 2s});
  ASSERT_FALSE(unreachable.has_value());
  EXPECT_THAT(unreachable.error().message, Not(HasSubstr("hunter2-secret")));
}

}  // namespace
}  // namespace sy::ledger
