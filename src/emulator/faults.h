// Faults: scripted failures the control API registers and the dialect handlers consume.
//
// A fault matches a request by the `model` in its body ("*" matches every model). Faults are
// tried in registration order; a count fault strikes on each of its next `count` matching
// requests, then disappears; a rate fault strikes a matching request with probability `rate`,
// drawn from its own seeded RNG (so the strike pattern is the same on every run given the same
// request sequence), at most `count` times when a count is also given.
//
// Kinds: kStatus answers with an error status in the dialect of the endpoint hit; kTimeout reads
// the request and never answers; kReset aborts the connection with RST; kMalformed answers 200
// with a body that is not valid JSON (streams: a broken data line mid-stream); kSlow answers 10x
// slower than the profile. With `after_tokens` K, timeout / reset / malformed strike mid-stream
// after K generated tokens were sent (non-streamed requests ignore it).
//
// kBadOutput (with `output`, required for it and refused for other kinds) answers 200 with a
// well-formed answer in the endpoint's wire format (envelope, ids, usage, SSE framing as usual)
// whose CONTENT fails a check: invalid_json, schema_violation, empty, refusal or ungrounded.
// What each one generates, per wire format, is in bad_output.h; docs/emulator.md sums it up.
//
// Thread-safety: none; the owner (State) locks.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "core/result.h"
#include "emulator/http_message.h"

namespace sy::emulator {

enum class FaultKind { kStatus, kTimeout, kReset, kMalformed, kSlow, kBadOutput };
// The content check a kBadOutput answer fails.
enum class BadOutput { kInvalidJson, kSchemaViolation, kEmpty, kRefusal, kUngrounded };

inline constexpr int kSlowdownFactor = 10;
inline constexpr uint64_t kDefaultFaultSeed = 42;

struct Fault {
  int64_t id = 0;
  std::string model = "*";
  FaultKind kind = FaultKind::kStatus;
  int status = 0;                        // kStatus only
  std::optional<int64_t> count;          // strikes left; nullopt = unlimited (rate faults)
  std::optional<double> rate;            // strike probability per matching request
  uint64_t seed = kDefaultFaultSeed;     // the rate RNG's seed as registered
  uint64_t rng_state = 0;                // the rate RNG's current state
  std::optional<int64_t> retry_after_s;  // sent as retry-after on status faults
  std::optional<int64_t> after_tokens;   // mid-stream strike point
  std::string message;                   // error message override for status faults
  std::string param;  // status faults: OpenAI's error.param ("" = null; Anthropic has none)
  // kBadOutput only: the check the answer fails.
  BadOutput output = BadOutput::kInvalidJson;
};

// Parses one fault object or an array of them. Fails with kInvalidRequest saying which field
// is wrong.
core::Result<std::vector<Fault>> ParseFaults(const boost::json::value& body);
boost::json::object FaultToJson(const Fault& fault);
std::string_view FaultKindName(FaultKind kind);
std::string_view BadOutputName(BadOutput output);

class FaultList {
 public:
  // Stores the faults, assigning ids; returns them as stored.
  std::vector<Fault> Add(std::vector<Fault> faults);
  // The fault that strikes a request for `model`, if any; consumes one of its strikes.
  std::optional<Fault> Take(std::string_view model);
  void Clear() { faults_.clear(); }
  const std::vector<Fault>& faults() const { return faults_; }

 private:
  std::vector<Fault> faults_;
  int64_t next_id_ = 1;
};

// Applies a timeout, reset, malformed or slow fault to a planned successful reply; status and
// bad_output faults leave it alone (they shape the answer before it is encoded).
void ApplyTransportFault(const Fault& fault, Reply& reply);

}  // namespace sy::emulator
