// KeyStore on SQLite: the cases both engines pass (detail/keys_test_cases.h; keys_pg_test.cpp
// runs them on PostgreSQL), and opening a file that is missing or too old.
#include "ledger/keys.h"

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "ledger/detail/keys_test_cases.h"
#include "ledger/detail/schema.h"
#include "ledger/detail/test_util.h"
#include "ledger/sqlite_ledger.h"

namespace sy::ledger {
namespace {

using test::KeyStoreTest;
using test::TempDir;
using ::testing::HasSubstr;
using ::testing::Not;

// A ledger file created by the gateway's SqliteLedger, which KeyStore then opens.
class SqliteKeysLedger final : public test::KeysTestLedger {
 public:
  SqliteKeysLedger() { Write({}); }

  const std::string& location() const override { return path_; }

  void Write(std::vector<Record> records) override {
    auto ledger = SqliteLedger::Open({.path = path_});
    ASSERT_TRUE(ledger.has_value()) << ledger.error().message;
    for (Record& r : records) (*ledger)->Append(std::move(r));
    (*ledger)->Close();
  }

  int64_t QueryInt(const std::string& sql) override { return test::QueryInt(path_, sql); }

 private:
  TempDir dir_;
  std::string path_ = dir_.File("ledger.db");
};

std::unique_ptr<test::KeysTestLedger> MakeSqliteLedger() {
  return std::make_unique<SqliteKeysLedger>();
}

INSTANTIATE_TEST_SUITE_P(Sqlite, KeyStoreTest, ::testing::Values(&MakeSqliteLedger));

TEST(KeyStoreOpenTest, AMissingFileIsAnErrorNamingItAndIsNotCreated) {
  TempDir dir;
  const std::string path = dir.File("missing.db");
  auto store = KeyStore::Open(path);
  ASSERT_FALSE(store.has_value());
  EXPECT_EQ(store.error().code, core::Errc::kInternal);
  EXPECT_THAT(store.error().message, HasSubstr(path));
  EXPECT_FALSE(std::filesystem::exists(path));
}

// A key store on the file at `path`, created first as the keys CLI creates it.
core::Result<std::unique_ptr<KeyStore>> PreparedStore(const std::string& path) {
  if (auto prepared = PrepareKeyDatabase(path); !prepared) return std::move(prepared).error();
  return KeyStore::Open(path);
}

// What the keys CLI does on a file no gateway has opened: it is created with the schema.
TEST(KeyStoreOpenTest, PrepareKeyDatabaseCreatesAMissingFile) {
  TempDir dir;
  const std::string path = dir.File("new.db");
  auto store = PreparedStore(path);
  ASSERT_TRUE(store.has_value()) << store.error().message;
  auto revision = (*store)->Revision();
  ASSERT_TRUE(revision.has_value());
  EXPECT_EQ(*revision, 0);
  EXPECT_FALSE(IsPostgresLocation(path));
  EXPECT_TRUE(IsPostgresLocation("postgresql://u@h/db"));
  EXPECT_TRUE(IsPostgresLocation("postgres://u@h/db"));
}

// A gateway opens several SQLite files; a failure reading one must say which.
TEST(KeyStoreOpenTest, AFailedReadNamesTheDatabaseAndARefusalDoesNot) {
  TempDir dir;
  const std::string path = dir.File("keys.db");
  auto store = PreparedStore(path);
  ASSERT_TRUE(store.has_value()) << store.error().message;
  const KeyRow row = test::TestKey("key_0000000000000001", "acme", 'h');
  ASSERT_TRUE((*store)->InsertKey(row).has_value());
  auto duplicate = (*store)->InsertKey(row);
  ASSERT_FALSE(duplicate.has_value());
  EXPECT_NE(duplicate.error().code, core::Errc::kInternal);
  EXPECT_THAT(duplicate.error().message, Not(HasSubstr(path)));
  {
    auto other = detail::Db::Open(path, SQLITE_OPEN_READWRITE);
    ASSERT_TRUE(other.has_value());
    ASSERT_TRUE(other->Exec("DROP TABLE tenants").has_value());
  }
  auto tenants = (*store)->Tenants();
  ASSERT_FALSE(tenants.has_value());
  EXPECT_EQ(tenants.error().code, core::Errc::kInternal);
  EXPECT_THAT(tenants.error().message, HasSubstr(path));
  EXPECT_THAT(tenants.error().message, HasSubstr("no such table"));
}

TEST(KeyStoreOpenTest, ALedgerOlderThanVersionSixIsRefusedUntilMigrated) {
  TempDir dir;
  const std::string path = dir.File("v2.db");
  {
    auto db = detail::Db::Open(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    ASSERT_TRUE(db.has_value());
    ASSERT_TRUE(db->Exec(test::kVersionTwoLedger));
  }
  auto store = KeyStore::Open(path);
  ASSERT_FALSE(store.has_value());
  EXPECT_EQ(store.error().code, core::Errc::kInternal);
  EXPECT_THAT(store.error().message, HasSubstr(path));
  EXPECT_THAT(store.error().message, HasSubstr("version 2 is older than 6"));

  auto ledger = SqliteLedger::Open({.path = path});  // the gateway's open migrates it
  ASSERT_TRUE(ledger.has_value());
  (*ledger)->Close();
  auto migrated = KeyStore::Open(path);
  ASSERT_TRUE(migrated.has_value()) << migrated.error().message;
  auto revision = (*migrated)->Revision();
  ASSERT_TRUE(revision.has_value());
  EXPECT_EQ(*revision, 0);
  auto seeded = (*migrated)->SpendByTenantSince(0);  // the v2 rows are still there
  ASSERT_TRUE(seeded.has_value());
  ASSERT_EQ(seeded->size(), 1u);
  EXPECT_EQ((*seeded)[0].cost.ToString(), "1.234567890123");
}

}  // namespace
}  // namespace sy::ledger
