#include "limits/policy.h"

#include <algorithm>
#include <initializer_list>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "core/text.h"

namespace sy::limits {
namespace {

using boost::json::object;
using boost::json::value;

constexpr size_t kMaxNameBytes = 128;
// Budgets run to the largest Money (int64 pico-dollars, about 9.22 million USD), within which
// every budget a policy held before stays. The ceiling used to be a billion dollars, which no
// Money can hold: a larger budget was refused as "not a decimal string".
constexpr const char* kBudgetRange =
    "must be a decimal string from \"0\" to \"9223372.036854775807\" (USD)";

core::Error Bad(std::string param, std::string what) {
  return core::InvalidParam(param, param + " " + what);
}

core::Result<std::optional<core::Money>> ReadBudget(const object& budgets, std::string_view name) {
  const std::string param = "budgets." + std::string(name);
  const value* v = budgets.if_contains(name);
  if (!v || v->is_null()) return std::optional<core::Money>();
  if (!v->is_string()) return Bad(param, "must be a decimal string such as \"5.00\"");
  auto money = core::Money::Parse(std::string_view(v->get_string()));
  if (!money || money->pico() < 0) return Bad(param, kBudgetRange);
  return std::optional<core::Money>(*money);
}

core::Result<std::optional<int64_t>> ReadRate(const object& limits, std::string_view name) {
  const std::string param = "limits." + std::string(name);
  const value* v = limits.if_contains(name);
  if (!v || v->is_null()) return std::optional<int64_t>();
  if (!v->is_int64() || v->get_int64() < 1 || v->get_int64() > kMaxPerMinute) {
    return Bad(param, "must be a whole number from 1 to 1000000000");
  }
  return std::optional<int64_t>(v->get_int64());
}

// An unknown field is refused rather than ignored: "usd_per_dya" must not mean "no budget".
core::Status CheckKnownFields(const object& o, std::string_view where,
                              std::initializer_list<std::string_view> known) {
  for (const auto& field : o) {
    if (std::find(known.begin(), known.end(), field.key()) != known.end()) continue;
    std::string list;
    for (auto k : known) list += (list.empty() ? "" : ", ") + std::string(k);
    return Bad(std::string(where),
               "has no field \"" + core::ClipForEcho(field.key(), 64) + "\" (known: " + list + ")");
  }
  return {};
}

core::Status ApplyBudgets(const value& v, Budgets& out) {
  if (v.is_null()) {
    out = {};
    return {};
  }
  if (!v.is_object()) return Bad("budgets", "must be an object");
  const object& o = v.get_object();
  if (auto s = CheckKnownFields(o, "budgets", {"usd_per_day", "usd_per_month"}); !s) return s;
  auto day = ReadBudget(o, "usd_per_day");
  if (!day) return std::move(day).error();
  auto month = ReadBudget(o, "usd_per_month");
  if (!month) return std::move(month).error();
  out = Budgets{*day, *month};
  return {};
}

core::Status ApplyLimits(const value& v, RateLimits& out) {
  if (v.is_null()) {
    out = {};
    return {};
  }
  if (!v.is_object()) return Bad("limits", "must be an object");
  const object& o = v.get_object();
  if (auto s = CheckKnownFields(o, "limits", {"requests_per_minute", "tokens_per_minute"}); !s) {
    return s;
  }
  auto requests = ReadRate(o, "requests_per_minute");
  if (!requests) return std::move(requests).error();
  auto tokens = ReadRate(o, "tokens_per_minute");
  if (!tokens) return std::move(tokens).error();
  out = RateLimits{*requests, *tokens};
  return {};
}

core::Status ApplyNames(const value& v, std::string_view param,
                        std::optional<std::vector<std::string>>& out) {
  if (v.is_null()) {
    out.reset();
    return {};
  }
  const std::string p(param);
  if (!v.is_array()) return Bad(p, "must be an array of names, or null for any");
  const auto& array = v.get_array();
  if (array.size() > kMaxAllowedNames) return Bad(p, "may list at most 256 names");
  std::vector<std::string> names;
  for (const auto& item : array) {
    if (!item.is_string() || item.get_string().empty() ||
        item.get_string().size() > kMaxNameBytes) {
      return Bad(p, "must hold names of 1-128 bytes");
    }
    names.emplace_back(item.get_string());
  }
  out = std::move(names);
  return {};
}

value Names(const std::optional<std::vector<std::string>>& names) {
  if (!names) return nullptr;
  boost::json::array out;
  for (const auto& n : *names) out.emplace_back(n);
  return out;
}

value MoneyOrNull(const std::optional<core::Money>& m) {
  if (!m) return nullptr;
  return value(m->ToString());
}

value IntOrNull(const std::optional<int64_t>& n) {
  if (!n) return nullptr;
  return value(*n);
}

}  // namespace

core::Status ApplyPolicy(const object& body, bool for_key, Policy& policy) {
  if (const value* v = body.if_contains("budgets")) {
    if (auto s = ApplyBudgets(*v, policy.budgets); !s) return s;
  }
  if (const value* v = body.if_contains("limits")) {
    if (auto s = ApplyLimits(*v, policy.limits); !s) return s;
  }
  if (!for_key) return {};
  if (const value* v = body.if_contains("allowed_profiles")) {
    if (auto s = ApplyNames(*v, "allowed_profiles", policy.allowed_profiles); !s) return s;
  }
  if (const value* v = body.if_contains("allowed_models")) {
    if (auto s = ApplyNames(*v, "allowed_models", policy.allowed_models); !s) return s;
  }
  return {};
}

object PolicyObject(const Policy& policy, bool for_key) {
  object out;
  out["budgets"] = object{{"usd_per_day", MoneyOrNull(policy.budgets.usd_per_day)},
                          {"usd_per_month", MoneyOrNull(policy.budgets.usd_per_month)}};
  out["limits"] = object{{"requests_per_minute", IntOrNull(policy.limits.requests_per_minute)},
                         {"tokens_per_minute", IntOrNull(policy.limits.tokens_per_minute)}};
  if (for_key) {
    out["allowed_profiles"] = Names(policy.allowed_profiles);
    out["allowed_models"] = Names(policy.allowed_models);
  }
  return out;
}

std::string PolicyJson(const Policy& policy) {
  return boost::json::serialize(PolicyObject(policy, true));
}

core::Result<Policy> ParsePolicyJson(std::string_view json) {
  boost::system::error_code ec;
  const value v = boost::json::parse(json, ec);
  Policy policy;
  if (ec || !v.is_object() || !ApplyPolicy(v.get_object(), true, policy)) {
    return core::MakeError(core::Errc::kInternal, "a stored key or tenant policy is corrupt");
  }
  return policy;
}

}  // namespace sy::limits
