// The MemoryStore of cache.h with its clock injected, for tests that pin expiry without sleeping.
// Internal to cache/: other modules call cache::MemoryStore.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string_view>

#include "cache/cache.h"

namespace sy::cache::detail {

// What one entry costs a MemoryStore beyond its key and EntrySize: the list node, the index
// slot and the strings' own headers, roughly.
inline constexpr size_t kEntryOverheadBytes = 64;

// The bytes an entry under `key` counts against a MemoryStore's max_bytes.
size_t MemoryBytes(std::string_view key, const Entry& entry);

// "Now" for expiry. Called under the store's lock: must be cheap and must not call the store.
using SteadyNow = std::function<std::chrono::steady_clock::time_point()>;

// MemoryStore(max_bytes) reading `now` instead of std::chrono::steady_clock.
std::unique_ptr<Store> MemoryStoreWithClock(size_t max_bytes, SteadyNow now);

}  // namespace sy::cache::detail
