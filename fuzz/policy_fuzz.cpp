// limits::ApplyPolicy on arbitrary JSON, as POST /admin/keys and PATCH read it: never throws;
// a refusal is kInvalidRequest naming a field; an accepted policy survives its stored form
// (PolicyJson -> ParsePolicyJson) unchanged and keeps every bound.
#include <cstddef>
#include <cstdint>

#include <boost/json/parse.hpp>

#include "fuzz_check.h"
#include "limits/policy.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  boost::system::error_code ec;
  boost::json::parse_options options;
  options.max_depth = 16;
  const boost::json::value body = boost::json::parse(sy::fuzz::AsText(data, size), ec, {}, options);
  if (ec || !body.is_object()) return 0;
  sy::limits::Policy policy;
  const auto applied = sy::limits::ApplyPolicy(body.get_object(), true, policy);
  if (!applied) {
    sy::fuzz::Check(applied.error().code == sy::core::Errc::kInvalidRequest, "refusal is 400");
    sy::fuzz::Check(!applied.error().param.empty(), "a refusal names its field");
    return 0;
  }
  for (const auto& rate : {policy.limits.requests_per_minute, policy.limits.tokens_per_minute}) {
    sy::fuzz::Check(!rate || (*rate >= 1 && *rate <= sy::limits::kMaxPerMinute), "rate bound");
  }
  const auto stored = sy::limits::ParsePolicyJson(sy::limits::PolicyJson(policy));
  sy::fuzz::Check(stored.has_value(), "a stored policy reads back");
  sy::fuzz::Check(sy::limits::PolicyJson(*stored) == sy::limits::PolicyJson(policy),
                  "a stored policy reads back unchanged");
  return 0;
}
