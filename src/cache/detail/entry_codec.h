// How RedisStore keeps an Entry in one Redis string value, and what an Entry costs a store.
// Internal to cache/: other modules use cache/cache.h.
//
// The value (format 1): a version byte, 1, then five fields, each as its length (uint32
// little-endian) followed by that many bytes:
//   stream        1 byte, 0 or 1
//   body          the bytes as stored (binary-safe: an SSE body, a JSON body)
//   model
//   provider
//   stored_at_ms  8 bytes, int64 little-endian
// and nothing after. A value in another version or shape (written by a newer or older gateway,
// truncated, or not ours) does not decode: the store treats it as a miss.
//
// Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "cache/cache.h"

namespace sy::cache::detail {

inline constexpr unsigned char kEntryFormat = 1;

// What an entry weighs against kMaxEntryBytes: its body, model and provider.
inline size_t EntrySize(const Entry& entry) {
  return entry.body.size() + entry.model.size() + entry.provider.size();
}

std::string EncodeEntry(const Entry& entry);

// The entry `value` holds, or nullopt when it is not a well-formed value of format 1 (every
// length is checked against the bytes that remain; trailing bytes are refused too).
std::optional<Entry> DecodeEntry(std::string_view value);

}  // namespace sy::cache::detail
