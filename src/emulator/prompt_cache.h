// PromptCache: which prompt prefixes each model has seen, to report cached tokens the way the
// vendors do, deterministically given the sequence of requests.
//
// OpenAI (automatic caching): a prompt of at least kMinCacheableTokens tokens reports
// cached_tokens = the longest prefix it shares with any earlier prompt to the same model,
// rounded down to a multiple of kCacheBlockTokens, and 0 when that is below kMinCacheableTokens.
// Anthropic (explicit cache_control breakpoints): the longest breakpoint prefix seen before is a
// cache read; the rest up to the last breakpoint is a cache write; prefixes shorter than
// kMinCacheableTokens are never cached.
//
// Thread-safety: none; the owner (State) serialises calls. Memory is bounded: a model's set is
// cleared when it exceeds kMaxPrefixesPerModel entries.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace sy::emulator {

inline constexpr int64_t kMinCacheableTokens = 1024;
inline constexpr int64_t kCacheBlockTokens = 128;

class PromptCache {
 public:
  static constexpr size_t kMaxPrefixesPerModel = 1'000'000;

  // OpenAI: the cached token count for `tokens`, then remembers its prefixes. `key` names the
  // cache (dialect and model).
  int64_t LookupAndInsertPrefix(std::string_view key, const std::vector<uint64_t>& tokens);

  struct BreakpointUse {
    int64_t read_tokens = 0;
    int64_t created_tokens = 0;
  };
  // Anthropic: cache use for a prompt with breakpoints (ascending prefix lengths), then
  // remembers them.
  BreakpointUse LookupAndInsertBreakpoints(std::string_view key,
                                           const std::vector<uint64_t>& tokens,
                                           const std::vector<size_t>& breakpoints);
  void Clear() { seen_.clear(); }

 private:
  std::unordered_set<uint64_t>& SetFor(std::string_view key);
  std::unordered_map<std::string, std::unordered_set<uint64_t>> seen_;
};

}  // namespace sy::emulator
