#include "api/translate/usage_json.h"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <utility>

#include "core/saturating.h"

namespace sy::api::translate {
namespace {

namespace json = boost::json;

// An upstream may report any non-negative int64 count (the provider adapters accept them all),
// so sums (core::SaturatingAdd) and differences saturate instead of overflowing.
int64_t SaturatingSub(int64_t a, int64_t b) {
  int64_t difference = 0;
  if (!__builtin_sub_overflow(a, b, &difference)) return difference;
  return b < 0 ? std::numeric_limits<int64_t>::max() : std::numeric_limits<int64_t>::min();
}

}  // namespace

json::object OpenAiUsageJson(const core::Usage& usage, json::storage_ptr sp) {
  json::object out(sp);
  out["prompt_tokens"] = usage.input_tokens;
  out["completion_tokens"] = usage.output_tokens;
  out["total_tokens"] = core::SaturatingAdd(usage.input_tokens, usage.output_tokens);
  json::object prompt_details(sp);
  prompt_details["cached_tokens"] = usage.cached_input_tokens;
  out["prompt_tokens_details"] = std::move(prompt_details);
  json::object completion_details(sp);
  completion_details["reasoning_tokens"] = usage.reasoning_tokens;
  out["completion_tokens_details"] = std::move(completion_details);
  return out;
}

json::object AnthropicUsageJson(const core::Usage& usage, json::storage_ptr sp) {
  json::object out(std::move(sp));
  const int64_t uncached = SaturatingSub(
      SaturatingSub(usage.input_tokens, usage.cached_input_tokens), usage.cache_write_input_tokens);
  out["input_tokens"] = std::max<int64_t>(uncached, 0);
  out["cache_creation_input_tokens"] = usage.cache_write_input_tokens;
  out["cache_read_input_tokens"] = usage.cached_input_tokens;
  out["output_tokens"] = usage.output_tokens;
  return out;
}

json::object ResponsesUsageJson(const core::Usage& usage, json::storage_ptr sp) {
  json::object out(sp);
  out["input_tokens"] = usage.input_tokens;
  json::object input_details(sp);
  input_details["cached_tokens"] = usage.cached_input_tokens;
  out["input_tokens_details"] = std::move(input_details);
  out["output_tokens"] = usage.output_tokens;
  json::object output_details(sp);
  output_details["reasoning_tokens"] = usage.reasoning_tokens;
  out["output_tokens_details"] = std::move(output_details);
  out["total_tokens"] = core::SaturatingAdd(usage.input_tokens, usage.output_tokens);
  return out;
}

}  // namespace sy::api::translate
