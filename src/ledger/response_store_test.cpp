// ResponseStore on SQLite: the cases both engines pass (detail/response_store_test_cases.h), and
// what only the file has: its permissions, the ledger beside it, and what opening it checks.
#include "ledger/response_store.h"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "ledger/detail/response_store_test_cases.h"
#include "ledger/detail/responses.h"
#include "ledger/detail/schema.h"
#include "ledger/detail/sqlite.h"
#include "ledger/detail/test_util.h"
#include "ledger/sqlite_ledger.h"

namespace sy::ledger {
namespace {

using namespace std::chrono_literals;
using test::kT0;
using test::QueryInt;
using test::ResponseStoreTest;

// A client's previous_response_id is named in both engines' errors, cut to the echo bound (a
// 500 KB id came back whole in a 404).
TEST(ResponseStoreErrorsTest, TheClientsIdIsEchoedClipped) {
  const std::string id(500'000, 'r');
  for (const core::Error& e : {detail::PreviousNotFound(id), detail::TooManyTurns(id, 10)}) {
    EXPECT_EQ(e.param, "previous_response_id");
    EXPECT_LT(e.message.size(), 500u);
    EXPECT_NE(e.message.find("[cut, 500000 bytes]"), std::string::npos) << e.message;
  }
}
using test::TempDir;
using test::Turn;
using test::Visible;

// A fresh SQLite file, created (and migrated) by the ledger as the gateway does.
class SqliteResponsesDb final : public test::ResponsesTestDb {
 public:
  SqliteResponsesDb() {
    auto ledger = SqliteLedger::Open({.path = path_});
    EXPECT_TRUE(ledger.has_value()) << (ledger ? "" : ledger.error().message);
  }
  const std::string& location() const override { return path_; }
  int64_t QueryInt(const std::string& sql) override { return test::QueryInt(path_, sql); }

 private:
  TempDir dir_;
  std::string path_ = dir_.File("ledger.db");
};

std::unique_ptr<test::ResponsesTestDb> MakeSqliteDb() {
  return std::make_unique<SqliteResponsesDb>();
}

INSTANTIATE_TEST_SUITE_P(Sqlite, ResponseStoreTest, ::testing::Values(&MakeSqliteDb));

std::unique_ptr<ResponseStore> OpenStore(const ResponseStore::Options& options) {
  auto store = ResponseStore::Open(options);
  EXPECT_TRUE(store.has_value()) << (store ? "" : store.error().message);
  return store ? std::move(*store) : nullptr;
}

TEST(SqliteResponseStoreTest, ANewFileIsCreatedOwnerOnly) {
  TempDir dir;
  const std::string path = dir.File("ledger.db");
  auto store = OpenStore({.location = path});
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->Put(Turn("resp_1", "", kT0)));
  for (const std::string& file : {path, path + "-wal"}) {
    struct stat st {};
    ASSERT_EQ(::stat(file.c_str(), &st), 0) << file;
    EXPECT_EQ(st.st_mode & 0777, 0600u) << file;
  }
}

TEST(SqliteResponseStoreTest, TheLedgerAndTheStoreShareOneFileAndItsSchemaVersion) {
  TempDir dir;
  const std::string path = dir.File("ledger.db");
  {
    auto store = OpenStore({.location = path});
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store->Put(Turn("resp_1", "", kT0)));
  }
  auto ledger = SqliteLedger::Open({.path = path});
  ASSERT_TRUE(ledger.has_value());
  auto store = OpenStore({.location = path});  // reopening keeps the rows
  ASSERT_NE(store, nullptr);
  EXPECT_TRUE(Visible(*store, "resp_1", "key-a", kT0));
  EXPECT_EQ(QueryInt(path, "PRAGMA user_version"), detail::kSchemaVersion);
}

// Schema v10 sums the responses a ledger already stored into each owner's bytes, and its
// triggers keep them from then on.
TEST(SqliteResponseStoreTest, MigratingToVersionTenCountsTheResponsesAlreadyStored) {
  TempDir dir;
  const std::string path = dir.File("ledger.db");
  const auto bytes = [](const StoredResponse& r) {
    return static_cast<int64_t>(r.input_json.size() + r.output_json.size() +
                                r.response_json.size());
  };
  {
    auto store = OpenStore({.location = path});
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store->Put(Turn("resp_1", "", kT0)));
    ASSERT_TRUE(store->Put(Turn("resp_2", "resp_1", kT0)));
  }
  {  // As a v9 file: no counts and no triggers.
    auto db = detail::Db::Open(path, SQLITE_OPEN_READWRITE);
    ASSERT_TRUE(db.has_value());
    ASSERT_TRUE(
        db->Exec("DROP TRIGGER responses_stored; DROP TRIGGER responses_removed; "
                 "DROP TABLE response_owners; PRAGMA user_version = 9;"));
  }
  ASSERT_TRUE(SqliteLedger::Open({.path = path}).has_value());  // the gateway's open migrates
  EXPECT_EQ(QueryInt(path, "PRAGMA user_version"), detail::kSchemaVersion);
  auto store = OpenStore({.location = path});
  ASSERT_NE(store, nullptr);
  const int64_t two = bytes(Turn("resp_1", "", kT0)) + bytes(Turn("resp_2", "resp_1", kT0));
  EXPECT_EQ(*store->StoredBytes("key-a"), two);
  ASSERT_TRUE(store->Put(Turn("resp_3", "resp_2", kT0)));
  EXPECT_EQ(*store->StoredBytes("key-a"), two + bytes(Turn("resp_3", "resp_2", kT0)));
}

TEST(SqliteResponseStoreTest, OptionsMustBePositive) {
  TempDir dir;
  auto store = ResponseStore::Open({.location = dir.File("ledger.db"), .retention = 0h});
  ASSERT_FALSE(store.has_value());
  EXPECT_EQ(store.error().code, core::Errc::kInvalidRequest);
  auto limitless = ResponseStore::Open({.location = dir.File("ledger.db"), .sweep_limit = 0});
  ASSERT_FALSE(limitless.has_value());
  auto no_room = ResponseStore::Open({.location = dir.File("ledger.db"), .max_bytes_per_owner = 0});
  ASSERT_FALSE(no_room.has_value());
}

TEST(SqliteResponseStoreTest, AFileThatIsNotADatabaseFailsToOpenNamingIt) {
  TempDir dir;
  const std::string path = dir.File("ledger.db");
  {
    std::FILE* f = std::fopen(path.c_str(), "w");
    ASSERT_NE(f, nullptr);
    std::fputs("this is not a database, it is a plain text file of some length", f);
    std::fclose(f);
  }
  auto store = ResponseStore::Open(path, std::chrono::hours(24));
  ASSERT_FALSE(store.has_value());
  EXPECT_EQ(store.error().code, core::Errc::kInternal);
  EXPECT_NE(store.error().message.find(path), std::string::npos) << store.error().message;
}

TEST(SqliteResponseStoreTest, ConcurrentPutsAndReadsBesideTheLedgerWriter) {
  TempDir dir;
  const std::string path = dir.File("ledger.db");
  auto ledger = SqliteLedger::Open({.path = path, .batch_size = 16, .flush_interval = 1ms});
  ASSERT_TRUE(ledger.has_value());
  auto store = OpenStore({.location = path, .sweep_every_puts = 50});
  ASSERT_NE(store, nullptr);
  constexpr int kThreads = 6;
  constexpr int kPerThread = 150;
  std::vector<std::thread> workers;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    workers.emplace_back([&, t] {
      const std::string owner = "key-" + std::to_string(t);
      for (int i = 0; i < kPerThread; ++i) {
        const std::string id = "resp_" + std::to_string(t) + "_" + std::to_string(i);
        const std::string previous =
            i == 0 ? "" : "resp_" + std::to_string(t) + "_" + std::to_string(i - 1);
        (*ledger)->Append(test::MakeRecord(t * kPerThread + i));
        if (!store->Put(Turn(id, previous, kT0 + i * 1ms, owner))) ++failures;
        auto got = store->Get(id, owner, kT0);
        if (!got || !got->has_value()) ++failures;
      }
      auto chain =
          store->Conversation("resp_" + std::to_string(t) + "_" + std::to_string(kPerThread - 1),
                              owner, kT0, kPerThread, 1 << 24);
      if (!chain || chain->size() != static_cast<size_t>(kPerThread)) ++failures;
    });
  }
  for (auto& worker : workers) worker.join();
  (*ledger)->Close();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(QueryInt(path, "SELECT COUNT(*) FROM responses"), kThreads * kPerThread);
  EXPECT_EQ(QueryInt(path, "SELECT COUNT(*) FROM requests"), kThreads * kPerThread);
  EXPECT_EQ(store->sweep_errors(), 0u);
}

}  // namespace
}  // namespace sy::ledger
