#include "emulator/prompt_cache.h"

#include "emulator/text_gen.h"

namespace sy::emulator {

namespace {

// Hashes of the prefixes of `tokens` at the given lengths (each hash also covers the length).
std::vector<uint64_t> PrefixHashes(const std::vector<uint64_t>& tokens,
                                   const std::vector<size_t>& lengths) {
  std::vector<uint64_t> hashes;
  hashes.reserve(lengths.size());
  uint64_t hash = kFnvOffset;
  size_t pos = 0;
  for (size_t length : lengths) {
    for (; pos < length && pos < tokens.size(); ++pos) hash = Mix(hash, tokens[pos]);
    hashes.push_back(Mix(hash, length));
  }
  return hashes;
}

}  // namespace

std::unordered_set<uint64_t>& PromptCache::SetFor(std::string_view key) {
  auto it = seen_.find(std::string(key));
  if (it == seen_.end()) it = seen_.emplace(std::string(key), std::unordered_set<uint64_t>{}).first;
  if (it->second.size() > kMaxPrefixesPerModel) it->second.clear();
  return it->second;
}

int64_t PromptCache::LookupAndInsertPrefix(std::string_view key,
                                           const std::vector<uint64_t>& tokens) {
  const auto block = static_cast<size_t>(kCacheBlockTokens);
  const auto min_tokens = static_cast<size_t>(kMinCacheableTokens);
  if (tokens.size() < min_tokens) return 0;
  std::vector<size_t> lengths;
  for (size_t length = min_tokens; length <= tokens.size(); length += block) {
    lengths.push_back(length);
  }
  std::vector<uint64_t> hashes = PrefixHashes(tokens, lengths);
  auto& seen = SetFor(key);
  int64_t cached = 0;
  for (size_t i = 0; i < lengths.size(); ++i) {
    if (!seen.contains(hashes[i])) break;  // a longer prefix cannot match if this one did not
    cached = static_cast<int64_t>(lengths[i]);
  }
  seen.insert(hashes.begin(), hashes.end());
  return cached;
}

PromptCache::BreakpointUse PromptCache::LookupAndInsertBreakpoints(
    std::string_view key, const std::vector<uint64_t>& tokens,
    const std::vector<size_t>& breakpoints) {
  std::vector<size_t> lengths;
  for (size_t length : breakpoints) {
    if (length >= static_cast<size_t>(kMinCacheableTokens) && length <= tokens.size()) {
      lengths.push_back(length);
    }
  }
  BreakpointUse use;
  if (lengths.empty()) return use;
  std::vector<uint64_t> hashes = PrefixHashes(tokens, lengths);
  auto& seen = SetFor(key);
  for (size_t i = lengths.size(); i-- > 0;) {
    if (seen.contains(hashes[i])) {
      use.read_tokens = static_cast<int64_t>(lengths[i]);
      break;
    }
  }
  use.created_tokens = static_cast<int64_t>(lengths.back()) - use.read_tokens;
  seen.insert(hashes.begin(), hashes.end());
  return use;
}

}  // namespace sy::emulator
