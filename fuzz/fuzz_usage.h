// The billed usage the fuzz targets hand the translators: read from the fuzz input's own usage
// block, with any counts a provider adapter accepts (non-negative int64, no relation between
// them assumed: an upstream may report more cached tokens than input tokens), so the
// translators' usage arithmetic is fuzzed too.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <limits>
#include <string_view>

#include <boost/json/value.hpp>

#include "core/usage.h"

namespace sy::fuzz {

// The first of `names` in `usage` that holds a count a provider adapter would accept, else 0.
inline int64_t Count(const boost::json::object& usage,
                     std::initializer_list<std::string_view> names) {
  for (auto name : names) {
    const auto* v = usage.if_contains(name);
    if (!v) continue;
    if (v->is_int64() && v->get_int64() >= 0) return v->get_int64();
    if (v->is_uint64() && v->get_uint64() <= uint64_t{std::numeric_limits<int64_t>::max()}) {
      return static_cast<int64_t>(v->get_uint64());
    }
  }
  return 0;
}

// Usage from `message`'s "usage" object (OpenAI or Anthropic names); a fixed small usage when
// there is none.
inline core::Usage UsageOf(const boost::json::value& message) {
  core::Usage u;
  u.reported = true;
  const auto* obj = message.if_object();
  const auto* found = obj ? obj->if_contains("usage") : nullptr;
  const auto* usage = found ? found->if_object() : nullptr;
  if (!usage) {
    u.input_tokens = 50;
    u.cached_input_tokens = 20;
    u.cache_write_input_tokens = 5;
    u.output_tokens = 9;
    u.reasoning_tokens = 2;
    return u;
  }
  u.input_tokens = Count(*usage, {"prompt_tokens", "input_tokens"});
  u.cached_input_tokens = Count(*usage, {"cached_tokens", "cache_read_input_tokens"});
  u.cache_write_input_tokens = Count(*usage, {"cache_creation_input_tokens"});
  u.output_tokens = Count(*usage, {"completion_tokens", "output_tokens"});
  u.reasoning_tokens = Count(*usage, {"reasoning_tokens"});
  return u;
}

}  // namespace sy::fuzz
