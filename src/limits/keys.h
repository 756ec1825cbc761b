// Client keys and the admin token: their format, how a key is hashed for storage, and how a
// presented secret is compared.
//
// A client key is "sk-sy-" and 40 base62 characters (about 238 random bits from OpenSSL's
// CSPRNG). It is shown once, when created or rotated; what is stored is HMAC-SHA256 under a
// server pepper, so a copy of the database alone neither reveals keys nor lets anyone test
// guesses offline. Lookups go by that hash: the time taken does not depend on whether a key
// exists (an HMAC is computed for every well-formed presented key, found or not).
//
// Thread-safety: free functions; the generators are safe to call from any thread.
#pragma once

#include <array>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

namespace sy::limits {

inline constexpr std::string_view kKeyPrefix = "sk-sy-";
inline constexpr size_t kKeySecretChars = 40;
inline constexpr size_t kKeyChars = 46;       // prefix + secret
inline constexpr size_t kShownKeyChars = 12;  // what listings show: "sk-sy-AbCdEf"

// HMAC-SHA256 of a key under the pepper: the stored form of a client key.
using KeyHash = std::array<unsigned char, 32>;

// True for "sk-sy-" followed by exactly 40 characters of [A-Za-z0-9].
bool WellFormedKey(std::string_view key);

// A new client key. Aborts (SY_CHECK) if the CSPRNG fails: no key is better than a weak one.
std::string NewKey();
// A new public identifier: `prefix` and `chars` base62 characters ("key_" + 16 for keys).
std::string NewId(std::string_view prefix, size_t chars);

KeyHash HashKey(std::string_view pepper, std::string_view key);

// HMAC-SHA256 under one pepper, for the request path: the pepper's inner and outer pads are
// absorbed once, so a hash costs three SHA-256 blocks (for a 46-byte key) and no allocation,
// where OpenSSL's one-shot HMAC() sets up a fresh context every time. Equal to HashKey.
// Thread-safe: Hash works on a per-thread copy of the prepared contexts.
class KeyHasher {
 public:
  explicit KeyHasher(std::string_view pepper);
  ~KeyHasher();
  KeyHasher(const KeyHasher&) = delete;
  KeyHasher& operator=(const KeyHasher&) = delete;

  KeyHash Hash(std::string_view key) const;

 private:
  struct Pads;
  std::unique_ptr<Pads> pads_;
};

// A hash table's hash of a KeyHash: its first bytes (the digest is already uniform).
struct KeyHashHash {
  size_t operator()(const KeyHash& h) const noexcept;
};
// The hash as the 32 raw bytes the database stores, and back (nullopt-like: all zero on a
// wrong length).
std::string HashBytes(const KeyHash& hash);
KeyHash HashFromBytes(std::string_view bytes);

// Compares a presented secret with the expected one in time independent of where they differ
// and of their lengths: both are HMAC'd under `pepper` and the digests compared with
// CRYPTO_memcmp. An empty `expected` never matches.
bool SameSecret(std::string_view pepper, std::string_view presented, std::string_view expected);

}  // namespace sy::limits
