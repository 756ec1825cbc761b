#include "limits/directory.h"

#include <chrono>
#include <cstdio>
#include <ctime>
#include <map>

namespace sy::limits {
namespace {

std::shared_ptr<Account> CarryOver(const std::map<std::string_view, std::shared_ptr<Account>>& old,
                                   std::string_view id) {
  auto it = old.find(id);
  return it != old.end() ? it->second : std::make_shared<Account>();
}

core::Error Invalid() { return core::MakeError(core::Errc::kUnauthenticated, "Invalid API key."); }

}  // namespace

std::string Rfc3339(int64_t unix_ms) {
  const std::time_t seconds = static_cast<std::time_t>(unix_ms / 1000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char out[32];
  std::strftime(out, sizeof out, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return out;
}

std::shared_ptr<const Directory> Directory::Build(std::vector<Key> keys,
                                                  std::vector<Tenant> tenants,
                                                  const Directory* previous) {
  std::map<std::string_view, std::shared_ptr<Account>> old_keys, old_tenants;
  if (previous) {
    for (const auto& k : previous->keys_) old_keys.emplace(k.id, k.account);
    for (const auto& t : previous->tenants_) old_tenants.emplace(t.name, t.account);
  }
  auto dir = std::make_shared<Directory>();
  dir->tenants_ = std::move(tenants);
  for (const auto& k : keys) {
    if (dir->FindTenant(k.tenant) == nullptr) dir->tenants_.push_back(Tenant{k.tenant, {}, 0, {}});
  }
  for (auto& t : dir->tenants_) t.account = CarryOver(old_tenants, t.name);
  dir->keys_ = std::move(keys);
  for (auto& k : dir->keys_) {
    k.account = CarryOver(old_keys, k.id);
    k.owner = dir->FindTenant(k.tenant);
    dir->by_hash_.emplace(k.hash, Entry{&k, false});
    if (k.previous_hash) dir->by_hash_.emplace(*k.previous_hash, Entry{&k, true});
  }
  return dir;
}

core::Result<const Key*> Directory::Authenticate(std::string_view presented,
                                                 const KeyHasher& hasher, int64_t now_ms) const {
  if (!WellFormedKey(presented)) return Invalid();
  auto it = by_hash_.find(hasher.Hash(presented));
  if (it == by_hash_.end()) return Invalid();
  const Key& key = *it->second.key;
  if (it->second.previous && now_ms >= key.previous_valid_until_ms) return Invalid();
  if (key.revoked_at_ms) {
    auto e = core::MakeError(core::Errc::kUnauthenticated,
                             "This API key was revoked at " + Rfc3339(*key.revoked_at_ms) + ".");
    e.reason = "revoked";
    return e;
  }
  return &key;
}

const Key* Directory::FindKey(std::string_view id) const {
  for (const auto& k : keys_) {
    if (k.id == id) return &k;
  }
  return nullptr;
}

const Tenant* Directory::FindTenant(std::string_view name) const {
  for (const auto& t : tenants_) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

}  // namespace sy::limits
