#include "ledger/keys.h"

#include <cstdint>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "ledger/detail/schema.h"
#include "ledger/detail/test_util.h"
#include "ledger/sqlite_ledger.h"

namespace sy::ledger {
namespace {

using test::TempDir;
using ::testing::HasSubstr;

constexpr int64_t kT0 = 1'764'633'600'000;  // 2025-12-02T00:00:00Z

KeyRow Key(std::string id, std::string tenant, char hash_byte) {
  KeyRow row;
  row.id = std::move(id);
  row.tenant = std::move(tenant);
  row.name = "ci";
  row.prefix = "sk-sy-AbCdEf";
  row.hash = std::string(32, hash_byte);
  row.hash[0] = '\0';  // raw bytes, NUL included, round-trip unchanged
  row.created_at_ms = kT0;
  row.policy_json = R"({"budgets":{"usd_per_day":"5.00"}})";
  return row;
}

Record Spent(std::string id, std::string key_id, std::string tenant, int64_t pico,
             int64_t started_at_ms) {
  Record r;
  r.request_id = std::move(id);
  r.key_id = std::move(key_id);
  r.tenant = std::move(tenant);
  r.cost = core::Money::FromPico(pico);
  r.started_at_ms = started_at_ms;
  r.status = 200;
  return r;
}

class KeyStoreTest : public ::testing::Test {
 protected:
  // The schema is the ledger's: SqliteLedger creates the file, KeyStore opens it.
  void SetUp() override { Write({}); }

  void Write(std::vector<Record> records) {
    auto ledger = SqliteLedger::Open({.path = path_});
    ASSERT_TRUE(ledger.has_value()) << ledger.error().message;
    for (Record& r : records) (*ledger)->Append(std::move(r));
    (*ledger)->Close();
  }

  std::unique_ptr<KeyStore> OpenStore() {
    auto store = KeyStore::Open(path_);
    EXPECT_TRUE(store.has_value()) << (store ? "" : store.error().message);
    return store ? std::move(*store) : nullptr;
  }

  int64_t Revision(KeyStore& store) {
    auto revision = store.Revision();
    EXPECT_TRUE(revision.has_value());
    return revision ? *revision : -1;
  }

  TempDir dir_;
  std::string path_ = dir_.File("ledger.db");
};

TEST_F(KeyStoreTest, KeysRoundTripEveryColumnAndBumpTheRevision) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(Revision(*store), 0);
  KeyRow a = Key("key_a", "acme", 'a');
  KeyRow b = Key("key_b", "beta", 'b');
  b.created_at_ms = kT0 - 1;  // listed first
  b.previous_hash = std::string(32, 'p');
  b.previous_valid_until_ms = kT0 + 3'600'000;
  b.revoked_at_ms = kT0 + 5;
  ASSERT_TRUE(store->InsertKey(a));
  ASSERT_TRUE(store->InsertKey(b));
  EXPECT_EQ(Revision(*store), 2);

  auto keys = store->Keys();
  ASSERT_TRUE(keys.has_value()) << keys.error().message;
  ASSERT_EQ(keys->size(), 2u);
  const KeyRow& first = (*keys)[0];
  EXPECT_EQ(first.id, "key_b");
  EXPECT_EQ(first.tenant, "beta");
  EXPECT_EQ(first.name, "ci");
  EXPECT_EQ(first.prefix, "sk-sy-AbCdEf");
  EXPECT_EQ(first.hash, b.hash);
  EXPECT_EQ(first.hash.size(), 32u);
  EXPECT_EQ(first.previous_hash, std::string(32, 'p'));
  EXPECT_EQ(first.previous_valid_until_ms, kT0 + 3'600'000);
  EXPECT_EQ(first.created_at_ms, kT0 - 1);
  EXPECT_EQ(first.revoked_at_ms, kT0 + 5);
  EXPECT_EQ(first.policy_json, R"({"budgets":{"usd_per_day":"5.00"}})");
  const KeyRow& second = (*keys)[1];
  EXPECT_EQ(second.id, "key_a");
  EXPECT_EQ(second.previous_hash, "");
  EXPECT_EQ(second.previous_valid_until_ms, 0);
  EXPECT_FALSE(second.revoked_at_ms.has_value());
  EXPECT_EQ(test::QueryInt(path_, "SELECT COUNT(*) FROM client_keys WHERE previous_hash IS NULL"),
            1);
}

TEST_F(KeyStoreTest, ADuplicateIdOrHashIsRefusedAndChangesNothing) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->InsertKey(Key("key_a", "acme", 'a')));
  const auto same_id = store->InsertKey(Key("key_a", "acme", 'z'));
  ASSERT_FALSE(same_id.has_value());
  EXPECT_EQ(same_id.error().code, core::Errc::kInvalidRequest);
  const auto same_hash = store->InsertKey(Key("key_other", "acme", 'a'));
  ASSERT_FALSE(same_hash.has_value());
  EXPECT_EQ(same_hash.error().code, core::Errc::kInvalidRequest);
  EXPECT_EQ(Revision(*store), 1);  // rolled back with the failed insert
  EXPECT_EQ(test::QueryInt(path_, "SELECT COUNT(*) FROM client_keys"), 1);
}

TEST_F(KeyStoreTest, UpdateReplacesEveryColumnByIdAndNeedsTheId) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->InsertKey(Key("key_a", "acme", 'a')));
  ASSERT_TRUE(store->InsertKey(Key("key_b", "acme", 'b')));
  KeyRow rotated = Key("key_a", "acme", 'n');  // a rotation: new hash, old one kept for a while
  rotated.name = "ci-2";
  rotated.previous_hash = Key("key_a", "acme", 'a').hash;
  rotated.previous_valid_until_ms = kT0 + 60'000;
  rotated.revoked_at_ms = kT0 + 9;
  rotated.policy_json = "{}";
  ASSERT_TRUE(store->UpdateKey(rotated));
  EXPECT_EQ(Revision(*store), 3);
  auto keys = store->Keys();
  ASSERT_TRUE(keys.has_value());
  const KeyRow& a = (*keys)[0].id == "key_a" ? (*keys)[0] : (*keys)[1];
  EXPECT_EQ(a.name, "ci-2");
  EXPECT_EQ(a.hash, rotated.hash);
  EXPECT_EQ(a.previous_hash, rotated.previous_hash);
  EXPECT_EQ(a.previous_valid_until_ms, kT0 + 60'000);
  EXPECT_EQ(a.revoked_at_ms, kT0 + 9);
  EXPECT_EQ(a.policy_json, "{}");

  const auto missing = store->UpdateKey(Key("key_none", "acme", 'q'));
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code, core::Errc::kNotFound);
  const auto taken_hash = store->UpdateKey(Key("key_a", "acme", 'b'));  // key_b's secret
  ASSERT_FALSE(taken_hash.has_value());
  EXPECT_EQ(taken_hash.error().code, core::Errc::kInvalidRequest);
  EXPECT_EQ(Revision(*store), 3);
}

TEST_F(KeyStoreTest, PutTenantInsertsThenReplacesThePolicyKeepingItsCreationTime) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->PutTenant(
      {.name = "acme", .policy_json = "{\"a\":1}", .created_at_ms = kT0, .updated_at_ms = kT0}));
  ASSERT_TRUE(store->PutTenant({.name = "acme",
                                .policy_json = "{\"a\":2}",
                                .created_at_ms = kT0 + 7,
                                .updated_at_ms = kT0 + 7}));
  ASSERT_TRUE(store->PutTenant(
      {.name = "beta", .policy_json = "{}", .created_at_ms = kT0, .updated_at_ms = kT0}));
  auto tenants = store->Tenants();
  ASSERT_TRUE(tenants.has_value());
  ASSERT_EQ(tenants->size(), 2u);
  EXPECT_EQ((*tenants)[0].name, "acme");
  EXPECT_EQ((*tenants)[0].policy_json, "{\"a\":2}");
  EXPECT_EQ((*tenants)[0].created_at_ms, kT0);
  EXPECT_EQ((*tenants)[0].updated_at_ms, kT0 + 7);
  EXPECT_EQ((*tenants)[1].name, "beta");
  EXPECT_EQ(Revision(*store), 3);
}

// The CLI writes on its own connection; the gateway's store sees the revision move.
TEST_F(KeyStoreTest, AnotherConnectionsWriteMovesTheRevision) {
  auto gateway = OpenStore();
  auto cli = OpenStore();
  ASSERT_NE(gateway, nullptr);
  ASSERT_NE(cli, nullptr);
  const int64_t before = Revision(*gateway);
  ASSERT_TRUE(cli->InsertKey(Key("key_a", "acme", 'a')));
  EXPECT_EQ(Revision(*gateway), before + 1);
  auto keys = gateway->Keys();
  ASSERT_TRUE(keys.has_value());
  EXPECT_EQ(keys->size(), 1u);
}

TEST_F(KeyStoreTest, SpendSinceSumsPerKeyAndTenantLeavingOutEmptyNames) {
  Write({Spent("r1", "key_a", "acme", 1'000'000'000'001, kT0 - 1),  // before: left out
         Spent("r2", "key_a", "acme", 2'000'000'000'003, kT0),
         Spent("r3", "key_b", "acme", 5, kT0 + 10), Spent("r4", "key_c", "beta", 7, kT0 + 20),
         Spent("r5", "", "", 1'000, kT0 + 30)});  // auth off: no key, no tenant
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  auto by_key = store->SpendByKeySince(kT0);
  ASSERT_TRUE(by_key.has_value()) << by_key.error().message;
  ASSERT_EQ(by_key->size(), 3u);
  EXPECT_EQ((*by_key)[0].name, "key_a");
  EXPECT_EQ((*by_key)[0].cost.pico(), 2'000'000'000'003);
  EXPECT_EQ((*by_key)[1].name, "key_b");
  EXPECT_EQ((*by_key)[1].cost.pico(), 5);
  EXPECT_EQ((*by_key)[2].name, "key_c");
  auto by_tenant = store->SpendByTenantSince(kT0);
  ASSERT_TRUE(by_tenant.has_value());
  ASSERT_EQ(by_tenant->size(), 2u);
  EXPECT_EQ((*by_tenant)[0].name, "acme");
  EXPECT_EQ((*by_tenant)[0].cost.pico(), 2'000'000'000'008);
  EXPECT_EQ((*by_tenant)[1].name, "beta");
  EXPECT_EQ((*by_tenant)[1].cost.pico(), 7);
  auto none = store->SpendByTenantSince(kT0 + 31);
  ASSERT_TRUE(none.has_value());
  EXPECT_TRUE(none->empty());
}

TEST(KeyStoreOpenTest, AMissingFileIsAnErrorNamingItAndIsNotCreated) {
  TempDir dir;
  const std::string path = dir.File("missing.db");
  auto store = KeyStore::Open(path);
  ASSERT_FALSE(store.has_value());
  EXPECT_EQ(store.error().code, core::Errc::kInternal);
  EXPECT_THAT(store.error().message, HasSubstr(path));
  EXPECT_FALSE(std::filesystem::exists(path));
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
