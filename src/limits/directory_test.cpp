#include "limits/directory.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace sy::limits {
namespace {

Key KeyOf(std::string id, std::string tenant, unsigned char hash) {
  Key k;
  k.id = std::move(id);
  k.tenant = std::move(tenant);
  k.hash[0] = hash;
  return k;
}

std::vector<std::string> TenantNames(const Directory& dir) {
  std::vector<std::string> names;
  for (const Tenant& t : dir.tenants()) names.push_back(t.name);
  return names;
}

// Tenants without a row follow the named ones, in the order their keys first name them; every
// key points at its tenant, and both are found by name.
TEST(DirectoryTest, EveryKeyHasItsTenantTheImpliedOnesInTheKeysOrder) {
  const auto dir = Directory::Build({KeyOf("key_1", "globex", 1), KeyOf("key_2", "acme", 2),
                                     KeyOf("key_3", "initech", 3), KeyOf("key_4", "globex", 4)},
                                    {Tenant{"acme", {}, 7, {}}}, nullptr);
  EXPECT_EQ(TenantNames(*dir), (std::vector<std::string>{"acme", "globex", "initech"}));
  for (const Key& k : dir->keys()) {
    SCOPED_TRACE(k.id);
    ASSERT_NE(k.owner, nullptr);
    EXPECT_EQ(k.owner->name, k.tenant);
    EXPECT_EQ(k.owner, dir->FindTenant(k.tenant));
    EXPECT_EQ(dir->FindKey(k.id), &k);
    ASSERT_NE(k.account, nullptr);
  }
  EXPECT_EQ(dir->FindTenant("acme")->created_at_ms, 7);
  EXPECT_EQ(dir->FindKey("key_4")->owner, dir->FindKey("key_1")->owner);
  EXPECT_EQ(dir->FindKey("key_9"), nullptr);
  EXPECT_EQ(dir->FindTenant("umbrella"), nullptr);
}

// A reload keeps each key's and tenant's counters by id and name, whatever the order of the
// rows; a new key and a new tenant start with their own.
TEST(DirectoryTest, AReloadCarriesTheAccountsOverByIdAndName) {
  const auto first = Directory::Build({KeyOf("key_1", "acme", 1), KeyOf("key_2", "globex", 2)},
                                      {Tenant{"acme", {}, 0, {}}}, nullptr);
  const auto second = Directory::Build(
      {KeyOf("key_3", "initech", 3), KeyOf("key_2", "globex", 2), KeyOf("key_1", "acme", 1)},
      {Tenant{"globex", {}, 0, {}}, Tenant{"acme", {}, 0, {}}}, first.get());
  for (const char* id : {"key_1", "key_2"}) {
    EXPECT_EQ(second->FindKey(id)->account, first->FindKey(id)->account) << id;
  }
  for (const char* name : {"acme", "globex"}) {
    EXPECT_EQ(second->FindTenant(name)->account, first->FindTenant(name)->account) << name;
  }
  ASSERT_NE(second->FindKey("key_3")->account, nullptr);
  EXPECT_NE(second->FindTenant("initech")->account, nullptr);
  EXPECT_EQ(second->FindKey("key_3")->owner, second->FindTenant("initech"));
}

}  // namespace
}  // namespace sy::limits
