// What a key or a tenant may spend and how fast: budgets (exact USD per UTC day and month),
// rate limits (requests and tokens per minute) and, for keys, the models and routing profiles
// it may use. Read from admin API bodies and from the database as JSON; written back the same
// way.
//
// Thread-safety: plain values and pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>

#include "core/money.h"
#include "core/result.h"

namespace sy::limits {

struct Budgets {
  std::optional<core::Money> usd_per_day;    // the UTC calendar day
  std::optional<core::Money> usd_per_month;  // the UTC calendar month
};

struct RateLimits {
  std::optional<int64_t> requests_per_minute;
  std::optional<int64_t> tokens_per_minute;  // input + output tokens of every attempt
};

struct Policy {
  Budgets budgets;
  RateLimits limits;
  // Keys only; absent: anything the gateway serves.
  std::optional<std::vector<std::string>> allowed_profiles;
  std::optional<std::vector<std::string>> allowed_models;
};

// Bounds on what an operator may set (so a typo cannot overflow a counter).
inline constexpr int64_t kMaxPerMinute = 1'000'000'000;
inline constexpr size_t kMaxAllowedNames = 256;

// Applies the fields present in `body` to `policy`, as a create or a PATCH does: "budgets",
// "limits" (each a whole object replacing the old one, or null to clear it) and, with
// `for_key`, "allowed_profiles" / "allowed_models" (arrays of names, or null). Budgets must be
// decimal strings ("5.00"): a JSON number is refused, since it would pass through binary
// floating point. Fails with kInvalidRequest naming the field ("budgets.usd_per_day").
core::Status ApplyPolicy(const boost::json::object& body, bool for_key, Policy& policy);

// The policy as a JSON object with every field: budgets and limits (absent values as null),
// and for keys allowed_profiles / allowed_models (null when any).
boost::json::object PolicyObject(const Policy& policy, bool for_key);

// Stored form: PolicyObject serialized, and back. Parsing fails with kInternal on a corrupt row.
std::string PolicyJson(const Policy& policy);
core::Result<Policy> ParsePolicyJson(std::string_view json);

}  // namespace sy::limits
