// Latency profiles: how fast each emulated model answers.
//
// A profile is {ttft_ms, tokens_per_s, reasoning}. ttft_ms is waited before the first token (and
// before a non-streamed answer); every generated token then costs 1/tokens_per_s seconds;
// tokens_per_s == 0 means unlimited (no per-token delay). `reasoning` models also spend hidden
// reasoning tokens (reported by the OpenAI dialect) before the first visible token. The model
// named "instant" (ttft 0, unlimited) answers with no delay at all, for benchmarks.
//
// Config file (Options::config_file), YAML or JSON (JSON is read as YAML):
//   default:                      # optional: the profile of any model not listed
//     ttft_ms: 50
//     tokens_per_s: 500
//   profiles:                     # add or override per-model profiles
//     gpt-5.5: {ttft_ms: 120, tokens_per_s: 400, reasoning: true}
//     my-model: {ttft_ms: 10, tokens_per_s: 0}
// Omitted fields keep the built-in (or default) value.
//
// Thread-safety: none; the owner (State) locks.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include <boost/json/object.hpp>

#include "core/result.h"

namespace sy::emulator {

struct Profile {
  int64_t ttft_ms = 50;
  double tokens_per_s = 500;  // 0 = unlimited
  bool reasoning = false;
};

// The time `tokens` tokens take under `profile`, multiplied by `slowdown` (10 for slow faults).
std::chrono::microseconds TokenTime(const Profile& profile, int64_t tokens, int slowdown = 1);
std::chrono::microseconds FirstTokenTime(const Profile& profile, int slowdown = 1);

class ProfileTable {
 public:
  ProfileTable();  // the built-in profiles of the demo models

  // The profile of `model`, or the default profile when it has none.
  Profile Get(std::string_view model) const;
  void Put(std::string model, const Profile& profile);

  // Applies a config file over the current profiles. Fails with kInvalidRequest naming the file
  // and the offending key; the table is unchanged on failure.
  core::Status LoadFile(const std::string& path);

 private:
  std::map<std::string, Profile, std::less<>> profiles_;
  Profile default_;
};

// Reads {"ttft_ms", "tokens_per_s", "reasoning"} over `base`. Fails with kInvalidRequest when a
// field has the wrong type or is negative.
core::Result<Profile> ProfileFromJson(const boost::json::object& fields, Profile base);
boost::json::object ProfileToJson(const Profile& profile);

}  // namespace sy::emulator
