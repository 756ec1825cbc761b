// The KeyStore cases both engines must pass (ledger/keys.h), as value-parameterised tests:
// keys_test.cpp instantiates them on SQLite, keys_pg_test.cpp on PostgreSQL. Include this header
// in one test file per binary (it defines the tests).
#pragma once

#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "ledger/keys.h"
#include "ledger/record.h"

namespace sy::ledger::test {

// A ledger database of one engine, its schema current, for the cases below.
class KeysTestLedger {
 public:
  virtual ~KeysTestLedger() = default;
  // What KeyStore::Open takes: the file's path or the database's URL.
  virtual const std::string& location() const = 0;
  // Records `records` as the gateway would (through the engine's ledger), all committed on return.
  virtual void Write(std::vector<Record> records) = 0;
  // One integer from a query of one row and column.
  virtual int64_t QueryInt(const std::string& sql) = 0;
};

using KeysTestLedgerFactory = std::unique_ptr<KeysTestLedger> (*)();

inline constexpr int64_t kKeysT0 = 1'764'633'600'000;  // 2025-12-02T00:00:00Z

inline KeyRow TestKey(std::string id, std::string tenant, char hash_byte) {
  KeyRow row;
  row.id = std::move(id);
  row.tenant = std::move(tenant);
  row.name = "ci";
  row.prefix = "sk-sy-AbCdEf";
  row.hash = std::string(32, hash_byte);
  row.hash[0] = '\0';  // raw bytes, NUL included, round-trip unchanged
  row.created_at_ms = kKeysT0;
  row.policy_json = R"({"budgets":{"usd_per_day":"5.00"}})";
  return row;
}

inline Record Spent(std::string id, std::string key_id, std::string tenant, int64_t pico,
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

class KeyStoreTest : public ::testing::TestWithParam<KeysTestLedgerFactory> {
 protected:
  void SetUp() override {
    ledger_ = GetParam()();
    ASSERT_NE(ledger_, nullptr);
  }

  std::unique_ptr<KeyStore> OpenStore() {
    auto store = KeyStore::Open(ledger_->location());
    EXPECT_TRUE(store.has_value()) << (store ? "" : store.error().message);
    return store ? std::move(*store) : nullptr;
  }

  static int64_t Revision(KeyStore& store) {
    auto revision = store.Revision();
    EXPECT_TRUE(revision.has_value()) << (revision ? "" : revision.error().message);
    return revision ? *revision : -1;
  }

  std::unique_ptr<KeysTestLedger> ledger_;
};

// The revision a write made; -1 (and a failure) when it failed.
inline int64_t Made(const core::Result<int64_t>& write) {
  EXPECT_TRUE(write.has_value()) << write.error().message;
  return write ? *write : -1;
}

TEST_P(KeyStoreTest, KeysRoundTripEveryColumnAndBumpTheRevision) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(Revision(*store), 0);
  KeyRow a = TestKey("key_a", "acme", 'a');
  KeyRow b = TestKey("key_b", "beta", 'b');
  b.created_at_ms = kKeysT0 - 1;  // listed first
  b.previous_hash = std::string(32, 'p');
  b.previous_hash[5] = '\xff';  // not text: stored as bytes
  b.previous_valid_until_ms = kKeysT0 + 3'600'000;
  b.revoked_at_ms = kKeysT0 + 5;
  // Each write returns the revision it made.
  EXPECT_EQ(Made(store->InsertKey(a)), 1);
  EXPECT_EQ(Made(store->InsertKey(b)), 2);
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
  EXPECT_EQ(first.previous_hash, b.previous_hash);
  EXPECT_EQ(first.previous_valid_until_ms, kKeysT0 + 3'600'000);
  EXPECT_EQ(first.created_at_ms, kKeysT0 - 1);
  EXPECT_EQ(first.revoked_at_ms, kKeysT0 + 5);
  EXPECT_EQ(first.policy_json, R"({"budgets":{"usd_per_day":"5.00"}})");
  const KeyRow& second = (*keys)[1];
  EXPECT_EQ(second.id, "key_a");
  EXPECT_EQ(second.previous_hash, "");
  EXPECT_EQ(second.previous_valid_until_ms, 0);
  EXPECT_FALSE(second.revoked_at_ms.has_value());
  EXPECT_EQ(ledger_->QueryInt("SELECT COUNT(*) FROM client_keys WHERE previous_hash IS NULL"), 1);
  EXPECT_EQ(ledger_->QueryInt("SELECT length(hash) FROM client_keys WHERE id = 'key_a'"), 32);
}

// Same creation time: by id, byte by byte ("Zeta" before "alpha"), whatever the collation.
TEST_P(KeyStoreTest, KeysAndTenantsAreListedInByteOrder) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->InsertKey(TestKey("key_alpha", "t", 'a')));
  ASSERT_TRUE(store->InsertKey(TestKey("key_Zeta", "t", 'z')));
  ASSERT_TRUE(store->InsertKey(TestKey("key_beta", "t", 'b')));
  for (const char* name : {"beta", "alpha", "Zeta"}) {
    ASSERT_TRUE(store->PutTenant(
        {.name = name, .policy_json = "{}", .created_at_ms = 1, .updated_at_ms = 1}));
  }
  auto keys = store->Keys();
  ASSERT_TRUE(keys.has_value());
  ASSERT_EQ(keys->size(), 3u);
  EXPECT_EQ((*keys)[0].id, "key_Zeta");
  EXPECT_EQ((*keys)[1].id, "key_alpha");
  EXPECT_EQ((*keys)[2].id, "key_beta");
  auto tenants = store->Tenants();
  ASSERT_TRUE(tenants.has_value());
  ASSERT_EQ(tenants->size(), 3u);
  EXPECT_EQ((*tenants)[0].name, "Zeta");
  EXPECT_EQ((*tenants)[1].name, "alpha");
  EXPECT_EQ((*tenants)[2].name, "beta");
}

TEST_P(KeyStoreTest, ADuplicateIdOrHashIsRefusedAndChangesNothing) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->InsertKey(TestKey("key_a", "acme", 'a')));
  const auto same_id = store->InsertKey(TestKey("key_a", "acme", 'z'));
  ASSERT_FALSE(same_id.has_value());
  EXPECT_EQ(same_id.error().code, core::Errc::kInvalidRequest);
  EXPECT_EQ(same_id.error().message, "inserting key key_a: a key with this id or secret exists");
  const auto same_hash = store->InsertKey(TestKey("key_other", "acme", 'a'));
  ASSERT_FALSE(same_hash.has_value());
  EXPECT_EQ(same_hash.error().code, core::Errc::kInvalidRequest);
  EXPECT_EQ(Revision(*store), 1);  // rolled back with the failed insert
  EXPECT_EQ(ledger_->QueryInt("SELECT COUNT(*) FROM client_keys"), 1);
  ASSERT_TRUE(store->InsertKey(TestKey("key_b", "acme", 'b')));  // the store still works
  EXPECT_EQ(Revision(*store), 2);
}

TEST_P(KeyStoreTest, UpdateReplacesEveryColumnByIdAndNeedsTheId) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->InsertKey(TestKey("key_a", "acme", 'a')));
  ASSERT_TRUE(store->InsertKey(TestKey("key_b", "acme", 'b')));
  KeyRow rotated = TestKey("key_a", "acme", 'n');  // a rotation: new hash, old one kept a while
  rotated.name = "ci-2";
  rotated.previous_hash = TestKey("key_a", "acme", 'a').hash;
  rotated.previous_valid_until_ms = kKeysT0 + 60'000;
  rotated.revoked_at_ms = kKeysT0 + 9;
  rotated.policy_json = "{}";
  ASSERT_TRUE(store->UpdateKey(rotated));
  EXPECT_EQ(Revision(*store), 3);
  auto keys = store->Keys();
  ASSERT_TRUE(keys.has_value());
  const KeyRow& a = (*keys)[0].id == "key_a" ? (*keys)[0] : (*keys)[1];
  EXPECT_EQ(a.name, "ci-2");
  EXPECT_EQ(a.hash, rotated.hash);
  EXPECT_EQ(a.previous_hash, rotated.previous_hash);
  EXPECT_EQ(a.previous_valid_until_ms, kKeysT0 + 60'000);
  EXPECT_EQ(a.revoked_at_ms, kKeysT0 + 9);
  EXPECT_EQ(a.policy_json, "{}");

  const auto missing = store->UpdateKey(TestKey("key_none", "acme", 'q'));
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code, core::Errc::kNotFound);
  EXPECT_EQ(missing.error().message, "no key with id 'key_none'");
  const auto taken_hash = store->UpdateKey(TestKey("key_a", "acme", 'b'));  // key_b's secret
  ASSERT_FALSE(taken_hash.has_value());
  EXPECT_EQ(taken_hash.error().code, core::Errc::kInvalidRequest);
  EXPECT_EQ(Revision(*store), 3);
}

TEST_P(KeyStoreTest, PutTenantInsertsThenReplacesThePolicyKeepingItsCreationTime) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->PutTenant({.name = "acme",
                                .policy_json = "{\"a\":1}",
                                .created_at_ms = kKeysT0,
                                .updated_at_ms = kKeysT0}));
  ASSERT_TRUE(store->PutTenant({.name = "acme",
                                .policy_json = "{\"a\":2}",
                                .created_at_ms = kKeysT0 + 7,
                                .updated_at_ms = kKeysT0 + 7}));
  ASSERT_TRUE(store->PutTenant(
      {.name = "beta", .policy_json = "{}", .created_at_ms = kKeysT0, .updated_at_ms = kKeysT0}));
  auto tenants = store->Tenants();
  ASSERT_TRUE(tenants.has_value());
  ASSERT_EQ(tenants->size(), 2u);
  EXPECT_EQ((*tenants)[0].name, "acme");
  EXPECT_EQ((*tenants)[0].policy_json, "{\"a\":2}");
  EXPECT_EQ((*tenants)[0].created_at_ms, kKeysT0);
  EXPECT_EQ((*tenants)[0].updated_at_ms, kKeysT0 + 7);
  EXPECT_EQ((*tenants)[1].name, "beta");
  EXPECT_EQ(Revision(*store), 3);
}

// The CLI (or another replica) writes on its own connection; the gateway's store sees the
// revision move.
TEST_P(KeyStoreTest, AnotherConnectionsWriteMovesTheRevision) {
  auto gateway = OpenStore();
  auto cli = OpenStore();
  ASSERT_NE(gateway, nullptr);
  ASSERT_NE(cli, nullptr);
  const int64_t before = Revision(*gateway);
  EXPECT_EQ(Made(cli->InsertKey(TestKey("key_a", "acme", 'a'))), before + 1);
  EXPECT_EQ(Revision(*gateway), before + 1);
  // A write made after another connection's knows its revision is not the next after its own.
  EXPECT_EQ(Made(gateway->PutTenant({"acme", "{}", kKeysT0, kKeysT0})), before + 2);
  auto keys = gateway->Keys();
  ASSERT_TRUE(keys.has_value());
  EXPECT_EQ(keys->size(), 1u);
}

TEST_P(KeyStoreTest, SpendSinceSumsPerKeyAndTenantLeavingOutEmptyNames) {
  ledger_->Write({Spent("r1", "key_a", "acme", 1'000'000'000'001, kKeysT0 - 1),  // before
                  Spent("r2", "key_a", "acme", 2'000'000'000'003, kKeysT0),
                  Spent("r3", "key_b", "acme", 5, kKeysT0 + 10),
                  Spent("r4", "key_c", "beta", 7, kKeysT0 + 20),
                  Spent("r5", "", "", 1'000, kKeysT0 + 30)});  // auth off: no key, no tenant
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  auto by_key = store->SpendByKeySince(kKeysT0);
  ASSERT_TRUE(by_key.has_value()) << by_key.error().message;
  ASSERT_EQ(by_key->size(), 3u);
  EXPECT_EQ((*by_key)[0].name, "key_a");
  EXPECT_EQ((*by_key)[0].cost.pico(), 2'000'000'000'003);
  EXPECT_EQ((*by_key)[1].name, "key_b");
  EXPECT_EQ((*by_key)[1].cost.pico(), 5);
  EXPECT_EQ((*by_key)[2].name, "key_c");
  auto by_tenant = store->SpendByTenantSince(kKeysT0);
  ASSERT_TRUE(by_tenant.has_value());
  ASSERT_EQ(by_tenant->size(), 2u);
  EXPECT_EQ((*by_tenant)[0].name, "acme");
  EXPECT_EQ((*by_tenant)[0].cost.pico(), 2'000'000'000'008);
  EXPECT_EQ((*by_tenant)[1].name, "beta");
  EXPECT_EQ((*by_tenant)[1].cost.pico(), 7);
  auto none = store->SpendByTenantSince(kKeysT0 + 31);
  ASSERT_TRUE(none.has_value());
  EXPECT_TRUE(none->empty());
}

// Regression: SUM raised "integer overflow" once a key's rows summed past int64 (one saturated
// cost, INT64_MAX pico-dollars, and any other), so the seed failed and the gateway did not
// start. The sums now hold at INT64_MAX and stay exact below it.
TEST_P(KeyStoreTest, SpendSinceHoldsASumPastInt64AtTheLargestValue) {
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  ledger_->Write({Spent("r1", "key_a", "acme", kMax, kKeysT0),
                  Spent("r2", "key_a", "acme", kMax, kKeysT0 + 1),
                  Spent("r3", "key_b", "acme", kMax - 1, kKeysT0 + 2),
                  Spent("r4", "key_c", "beta", kMax - 1, kKeysT0 + 3),
                  Spent("r5", "key_c", "beta", 1, kKeysT0 + 4)});
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  auto by_key = store->SpendByKeySince(kKeysT0);
  ASSERT_TRUE(by_key.has_value()) << by_key.error().message;
  ASSERT_EQ(by_key->size(), 3u);
  EXPECT_EQ((*by_key)[0].cost.pico(), kMax);      // saturated
  EXPECT_EQ((*by_key)[1].cost.pico(), kMax - 1);  // one row: as stored
  EXPECT_EQ((*by_key)[2].cost.pico(), kMax);      // exactly the largest value: exact
  auto by_tenant = store->SpendByTenantSince(kKeysT0);
  ASSERT_TRUE(by_tenant.has_value()) << by_tenant.error().message;
  ASSERT_EQ(by_tenant->size(), 2u);
  EXPECT_EQ((*by_tenant)[0].name, "acme");
  EXPECT_EQ((*by_tenant)[0].cost.pico(), kMax);
  EXPECT_EQ((*by_tenant)[1].name, "beta");
  EXPECT_EQ((*by_tenant)[1].cost.pico(), kMax);
}

// What the keys CLI does before the gateway first ran: the schema, then a store on it.
TEST_P(KeyStoreTest, PreparingADatabaseThatHasTheSchemaChangesNothing) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->InsertKey(TestKey("key_a", "acme", 'a')));
  auto prepared = PrepareKeyDatabase(ledger_->location());
  ASSERT_TRUE(prepared.has_value()) << prepared.error().message;
  EXPECT_EQ(Revision(*store), 1);
  EXPECT_EQ(ledger_->QueryInt("SELECT COUNT(*) FROM client_keys"), 1);
}

}  // namespace sy::ledger::test
