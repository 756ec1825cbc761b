// core::SecretScrubber: removes known secret values (upstream API keys, client keys, the admin
// token) from text before it reaches a client, a log line or the ledger.
//
// Every occurrence of every secret is replaced by "[redacted]"; overlapping occurrences (of one
// secret or of several) become one "[redacted]", so no fragment of a secret survives next to a
// marker. Matching is exact and byte-wise: a secret that a provider re-encodes (JSON escapes,
// percent-encoding, truncation) is not recognised.
//
// Short values: empty values are ignored; every other value is scrubbed whatever its length.
// A very short value (say, under 8 bytes) will also replace unrelated text that happens to
// contain it ("test" inside "latest"), which mangles messages; that is accepted on purpose,
// since the scrubber runs only on error text and a leaked key costs more than an odd message.
// Operators avoid it by using real keys.
//
// Cost: Scrub is O(secrets x text) with memchr-speed searches and copies the text once; with no
// secrets it is a plain copy. Meant for error paths, not for every response body.
//
// Thread-safety: immutable after construction; Scrub may be called from any thread.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"

namespace sy::core {

inline constexpr std::string_view kRedacted = "[redacted]";

class SecretScrubber {
 public:
  SecretScrubber() = default;
  // Keeps a copy of every non-empty value in `secrets` (duplicates are dropped).
  explicit SecretScrubber(std::vector<std::string> secrets);

  bool empty() const { return secrets_.empty(); }
  // `text` with every secret replaced by kRedacted.
  std::string Scrub(std::string_view text) const;
  // Scrubs the fields of `error` that carry text: message, upstream_detail and param.
  void ScrubError(Error& error) const;

 private:
  std::vector<std::string> secrets_;
};

}  // namespace sy::core
