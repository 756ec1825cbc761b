// KeyStore on PostgreSQL: the cases both engines pass (detail/keys_test_cases.h), and what only
// PostgreSQL has: replicas sharing one database, server restarts, and schema versions.
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "ledger/detail/keys_test_cases.h"
#include "ledger/detail/pg_test_util.h"
#include "ledger/detail/postgres.h"
#include "ledger/detail/test_util.h"
#include "ledger/keys.h"
#include "ledger/postgres_ledger.h"
#include "tests/testutil/pg_server.h"

namespace sy::ledger {
namespace {

using namespace std::chrono_literals;
using test::KeyStoreTest;
using test::kKeysT0;
using test::TempDir;
using test::TestKey;
using ::testing::HasSubstr;
using ::testing::Not;

// A fresh database on the binary's server whose schema the gateway's PostgresLedger created.
class PostgresKeysLedger final : public test::KeysTestLedger {
 public:
  PostgresKeysLedger() { Write({}); }

  const std::string& location() const override { return url_; }

  void Write(std::vector<Record> records) override {
    PostgresLedger::Options options;
    options.url = url_;
    options.queue.spill_path = dir_.File("spill-" + std::to_string(++writes_));
    auto ledger = PostgresLedger::Open(options);
    ASSERT_TRUE(ledger.has_value()) << ledger.error().message;
    const size_t count = records.size();
    for (Record& r : records) (*ledger)->Append(std::move(r));
    (*ledger)->Close();
    ASSERT_EQ((*ledger)->records_written(), count);
  }

  int64_t QueryInt(const std::string& sql) override {
    return std::strtoll(test::PgQuery(url_, sql).c_str(), nullptr, 10);
  }

 private:
  TempDir dir_;
  std::string url_ = testutil::FreshPgDatabase();
  int writes_ = 0;
};

std::unique_ptr<test::KeysTestLedger> MakePostgresLedger() {
  return std::make_unique<PostgresKeysLedger>();
}

INSTANTIATE_TEST_SUITE_P(Postgres, KeyStoreTest, ::testing::Values(&MakePostgresLedger));

std::unique_ptr<KeyStore> OpenStore(const std::string& url) {
  auto store = KeyStore::Open(url);
  EXPECT_TRUE(store.has_value()) << (store ? "" : store.error().message);
  return store ? std::move(*store) : nullptr;
}

int64_t Revision(KeyStore& store) {
  auto revision = store.Revision();
  EXPECT_TRUE(revision.has_value()) << (revision ? "" : revision.error().message);
  return revision ? *revision : -1;
}

// Two gateway replicas on one database: each sees the other's writes by polling Revision(), and
// the database, not either replica, refuses a secret the other already stored.
TEST(KeysOnPostgresTest, TwoReplicasSeeEachOthersWritesThroughTheRevision) {
  PostgresKeysLedger ledger;
  auto first = OpenStore(ledger.location());
  auto second = OpenStore(ledger.location());
  ASSERT_NE(first, nullptr);
  ASSERT_NE(second, nullptr);
  EXPECT_EQ(Revision(*second), 0);

  ASSERT_TRUE(first->InsertKey(TestKey("key_a", "acme", 'a')));
  EXPECT_EQ(Revision(*second), 1);
  auto seen = second->Keys();
  ASSERT_TRUE(seen.has_value()) << seen.error().message;
  ASSERT_EQ(seen->size(), 1u);
  EXPECT_EQ((*seen)[0].hash, TestKey("key_a", "acme", 'a').hash);

  const auto same_secret = second->InsertKey(TestKey("key_other", "acme", 'a'));
  ASSERT_FALSE(same_secret.has_value());
  EXPECT_EQ(same_secret.error().code, core::Errc::kInvalidRequest);
  EXPECT_THAT(same_secret.error().message, HasSubstr("a key with this id or secret exists"));
  EXPECT_EQ(Revision(*first), 1);  // the refused insert bumped nothing

  // A revocation through the second replica reaches the first.
  KeyRow revoked = (*seen)[0];
  revoked.revoked_at_ms = kKeysT0 + 1;
  ASSERT_TRUE(second->UpdateKey(revoked));
  ASSERT_TRUE(second->PutTenant(
      {.name = "acme", .policy_json = "{}", .created_at_ms = kKeysT0, .updated_at_ms = kKeysT0}));
  EXPECT_EQ(Revision(*first), 3);
  auto keys = first->Keys();
  ASSERT_TRUE(keys.has_value());
  ASSERT_EQ(keys->size(), 1u);
  EXPECT_EQ((*keys)[0].revoked_at_ms, kKeysT0 + 1);
  auto tenants = first->Tenants();
  ASSERT_TRUE(tenants.has_value());
  ASSERT_EQ(tenants->size(), 1u);
  EXPECT_EQ((*tenants)[0].name, "acme");
}

// Replicas writing at the same moment: every committed write adds exactly one to the revision,
// and of two inserts of one secret exactly one lands.
TEST(KeysOnPostgresTest, ConcurrentWritersEachBumpTheRevisionOnce) {
  PostgresKeysLedger ledger;
  constexpr int kPerReplica = 20;
  std::atomic<int> same_secret_stored{0};
  std::atomic<int> same_secret_refused{0};
  std::vector<std::thread> replicas;
  for (char replica : {'x', 'y'}) {
    replicas.emplace_back([&, replica] {
      auto store = OpenStore(ledger.location());
      if (store == nullptr) return;
      for (int i = 0; i < kPerReplica; ++i) {
        KeyRow row = TestKey("key_" + std::string(1, replica) + std::to_string(i), "acme", replica);
        row.hash[1] = static_cast<char>(i);
        EXPECT_TRUE(store->InsertKey(row).has_value());
        if (i == kPerReplica / 2) {
          const auto s = store->InsertKey(TestKey(std::string("key_s") + replica, "acme", 's'));
          if (s) {
            ++same_secret_stored;
          } else if (s.error().code == core::Errc::kInvalidRequest) {
            ++same_secret_refused;
          }
        }
      }
    });
  }
  for (auto& replica : replicas) replica.join();
  EXPECT_EQ(same_secret_stored.load(), 1);
  EXPECT_EQ(same_secret_refused.load(), 1);
  auto store = OpenStore(ledger.location());
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(Revision(*store), 2 * kPerReplica + 1);
  EXPECT_EQ(ledger.QueryInt("SELECT COUNT(*) FROM client_keys"), 2 * kPerReplica + 1);
}

// Listings sort byte by byte, as on SQLite, even where the columns' collation would not ("Zeta"
// after "beta" in a natural-language order; the test server's default is "C").
TEST(KeysOnPostgresTest, ListingsAreInByteOrderWhateverTheColumnsCollation) {
  PostgresKeysLedger ledger;
  const std::string& url = ledger.location();
  if (test::PgQuery(url, "SELECT count(*) FROM pg_collation WHERE collname = 'und-x-icu'") != "1") {
    GTEST_SKIP() << "this PostgreSQL has no ICU collations";
  }
  test::PgQuery(
      url,
      "ALTER TABLE client_keys ALTER COLUMN id TYPE TEXT COLLATE \"und-x-icu\"; "
      "ALTER TABLE tenants ALTER COLUMN name TYPE TEXT COLLATE \"und-x-icu\"; "
      "ALTER TABLE requests ALTER COLUMN tenant TYPE TEXT COLLATE \"und-x-icu\"; SELECT 1");
  auto store = OpenStore(url);
  ASSERT_NE(store, nullptr);
  std::vector<Record> spent;
  for (const char* name : {"beta", "alpha", "Zeta"}) {
    ASSERT_TRUE(store->InsertKey(TestKey(std::string("key_") + name, "t", name[0])));
    ASSERT_TRUE(store->PutTenant(
        {.name = name, .policy_json = "{}", .created_at_ms = 1, .updated_at_ms = 1}));
    spent.push_back(test::Spent(std::string("r-") + name, "k", name, 1, kKeysT0));
  }
  ledger.Write(std::move(spent));
  ASSERT_EQ(test::PgQuery(url, "SELECT string_agg(name, ',' ORDER BY name) FROM tenants"),
            "alpha,beta,Zeta");  // the column's own order differs
  auto keys = store->Keys();
  ASSERT_TRUE(keys.has_value()) << keys.error().message;
  ASSERT_EQ(keys->size(), 3u);
  EXPECT_EQ((*keys)[0].id, "key_Zeta");
  EXPECT_EQ((*keys)[1].id, "key_alpha");
  auto tenants = store->Tenants();
  ASSERT_TRUE(tenants.has_value());
  ASSERT_EQ(tenants->size(), 3u);
  EXPECT_EQ((*tenants)[0].name, "Zeta");
  EXPECT_EQ((*tenants)[1].name, "alpha");
  auto spend = store->SpendByTenantSince(kKeysT0);
  ASSERT_TRUE(spend.has_value()) << spend.error().message;
  ASSERT_EQ(spend->size(), 3u);
  EXPECT_EQ((*spend)[0].name, "Zeta");
  EXPECT_EQ((*spend)[1].name, "alpha");
}

// The store reconnects after the server restarts instead of failing every later call.
TEST(KeysOnPostgresTest, TheStoreOutlivesAServerRestart) {
  PostgresKeysLedger ledger;
  auto store = OpenStore(ledger.location());
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->InsertKey(TestKey("key_a", "acme", 'a')));
  ASSERT_TRUE(testutil::SharedPgServer().Stop().has_value());
  EXPECT_FALSE(store->Revision().has_value());
  EXPECT_FALSE(store->InsertKey(TestKey("key_b", "acme", 'b')).has_value());
  ASSERT_TRUE(testutil::SharedPgServer().Restart().has_value());
  EXPECT_EQ(Revision(*store), 1);
  ASSERT_TRUE(store->InsertKey(TestKey("key_b", "acme", 'b')));
  EXPECT_EQ(Revision(*store), 2);
}

// A database a v2 gateway left (no keys tables): refused until migrated, which the gateway's
// start or the keys CLI (PrepareKeyDatabase) does, keeping what is there.
TEST(KeysOnPostgresTest, ASchemaTwoDatabaseHasNoKeysUntilMigrated) {
  PostgresKeysLedger ledger;
  ledger.Write({test::Spent("r1", "key_a", "acme", 42, kKeysT0)});
  const std::string& url = ledger.location();
  test::PgQuery(url,
                "DROP TABLE client_keys, tenants, meta; UPDATE switchyard_schema SET version = 2; "
                "SELECT 1");
  auto refused = KeyStore::Open(url);
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code, core::Errc::kInternal);
  EXPECT_THAT(refused.error().message, HasSubstr("ledger schema version 2 has no keys tables"));

  auto prepared = PrepareKeyDatabase(url);
  ASSERT_TRUE(prepared.has_value()) << prepared.error().message;
  EXPECT_EQ(test::PgQuery(url, "SELECT count(*) || ':' || max(version) FROM switchyard_schema"),
            "1:" + std::to_string(detail::kPgSchemaVersion));
  auto store = OpenStore(url);
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(Revision(*store), 0);
  auto spend = store->SpendByKeySince(0);
  ASSERT_TRUE(spend.has_value());
  ASSERT_EQ(spend->size(), 1u);
  EXPECT_EQ((*spend)[0].cost.pico(), 42);
}

TEST(KeysOnPostgresTest, ADatabaseNeverMigratedNewerOrOutOfReachFailsClearly) {
  const std::string empty = testutil::FreshPgDatabase();
  auto never = KeyStore::Open(empty);
  ASSERT_FALSE(never.has_value());
  EXPECT_THAT(never.error().message, HasSubstr("ledger schema version 0 has no keys tables"));
  ASSERT_TRUE(PrepareKeyDatabase(empty).has_value());  // what `switchyard keys` does first
  EXPECT_NE(OpenStore(empty), nullptr);

  test::PgQuery(empty, "UPDATE switchyard_schema SET version = 99 RETURNING version");
  auto newer = KeyStore::Open(empty);
  ASSERT_FALSE(newer.has_value());
  EXPECT_THAT(newer.error().message, HasSubstr("newer than this binary"));
  auto not_migrated = PrepareKeyDatabase(empty);
  ASSERT_FALSE(not_migrated.has_value());
  EXPECT_THAT(not_migrated.error().message, HasSubstr("newer than this binary"));

  const std::string unreachable = "postgresql://u:hunter2-pw@127.0.0.1:1/db";
  auto open = KeyStore::Open(unreachable, 1s);
  auto prepare = PrepareKeyDatabase(unreachable, 1s);
  ASSERT_FALSE(open.has_value());
  ASSERT_FALSE(prepare.has_value());
  for (const core::Error* failed : {&open.error(), &prepare.error()}) {
    EXPECT_EQ(failed->code, core::Errc::kInternal);
    EXPECT_THAT(failed->message, HasSubstr("u@127.0.0.1:1/db"));
    EXPECT_THAT(failed->message, Not(HasSubstr("hunter2-pw")));
  }
}

}  // namespace
}  // namespace sy::ledger
