// The key directory: every client key and tenant, as an immutable snapshot the request path
// reads without a lock, plus the mutable counters (Account) each key and tenant carries.
//
// A snapshot is rebuilt whenever the stored keys change (an admin call, or another process
// writing the database) and published by swapping a shared_ptr; requests in flight keep the
// snapshot they started with. Accounts are carried over from the previous snapshot by id, so
// a reload never resets a budget or a rate limit.
//
// Thread-safety: a Directory is immutable once built and may be read from every thread. An
// Account's fields are guarded by its own mutex (one per key and per tenant: requests of
// different keys never contend; requests of one tenant share its mutex).
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/result.h"
#include "limits/allowance.h"
#include "limits/budget.h"
#include "limits/keys.h"
#include "limits/policy.h"
#include "limits/rate.h"

namespace sy::limits {

// The live counters of one key or one tenant.
struct Account {
  std::mutex mu;
  Window day;        // guarded by mu
  Window month;      // guarded by mu
  Bucket requests;   // guarded by mu
  Bucket tokens;     // guarded by mu
  Bucket auxiliary;  // count_tokens, explain, feedback, reports (limiter.h Admission); mu
  // With shared_state.redis_url (shared/counters.h): this replica's share of the limits that
  // every replica counts together in Redis. Guarded by mu.
  BudgetAllowance shared_day;
  BudgetAllowance shared_month;
  RateLease shared_requests;
  RateLease shared_tokens;
  RateLease shared_auxiliary;
};

struct Tenant {
  std::string name;
  Policy policy;  // budgets and limits only
  int64_t created_at_ms = 0;
  std::shared_ptr<Account> account;  // set by Directory::Build
  bool implied = false;              // set by Directory::Build: only its keys name it, no row
};

struct Key {
  std::string id;      // "key_..."; public
  std::string tenant;  // who pays
  std::string name;    // the operator's label
  std::string prefix;  // the key's first characters, for recognising it
  KeyHash hash{};
  // The secret it had before its last rotation, valid until previous_valid_until_ms.
  std::optional<KeyHash> previous_hash;
  int64_t previous_valid_until_ms = 0;
  int64_t created_at_ms = 0;
  std::optional<int64_t> revoked_at_ms;
  Policy policy;
  std::shared_ptr<Account> account;  // set by Directory::Build
  const Tenant* owner = nullptr;     // set by Directory::Build; never null after it
};

class Directory {
 public:
  Directory() = default;
  Directory(const Directory&) = delete;  // its indexes point into its own vectors
  Directory& operator=(const Directory&) = delete;

  // Indexes `keys` by hash (current and previous) and attaches accounts: those of `previous`
  // for ids it already had, new ones otherwise. A key whose tenant has no row gets an implied
  // tenant without budgets or limits.
  static std::shared_ptr<const Directory> Build(std::vector<Key> keys, std::vector<Tenant> tenants,
                                                const Directory* previous);

  // The key a client presented, at `now_ms`. Fails with kUnauthenticated: "Invalid API key."
  // for anything malformed, unknown or past its rotation grace (one message, so nothing tells
  // them apart), or "This API key was revoked at <time>." for a revoked one.
  core::Result<const Key*> Authenticate(std::string_view presented, const KeyHasher& hasher,
                                        int64_t now_ms) const;

  const Key* FindKey(std::string_view id) const;
  const Tenant* FindTenant(std::string_view name) const;
  const std::vector<Key>& keys() const { return keys_; }
  const std::vector<Tenant>& tenants() const { return tenants_; }

 private:
  struct Entry {
    const Key* key;
    bool previous;  // matched the pre-rotation secret
  };
  std::vector<Key> keys_;
  std::vector<Tenant> tenants_;
  // Views into keys_ and tenants_, which never change after Build: not copyable.
  std::unordered_map<std::string_view, const Key*> keys_by_id_;
  std::unordered_map<std::string_view, const Tenant*> tenants_by_name_;
  std::unordered_map<KeyHash, Entry, KeyHashHash> by_hash_;
};

// "2026-12-03T00:00:00Z".
std::string Rfc3339(int64_t unix_ms);

}  // namespace sy::limits
