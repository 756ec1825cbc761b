// Latency and quality profiles: how fast each emulated model answers, and how often it answers a
// task-suite item correctly (quality.h).
//
// A profile is {ttft_ms, tokens_per_s, reasoning, quality}. ttft_ms is waited before the first
// token (and before a non-streamed answer); every generated token then costs 1/tokens_per_s
// seconds; tokens_per_s == 0 means unlimited (no per-token delay). `reasoning` models also spend
// hidden reasoning tokens (reported by the OpenAI dialect) before the first visible token. The
// model named "instant" (ttft 0, unlimited) answers with no delay at all, for benchmarks. `quality`
// is the probability of a correct answer to a suite item: a default and per-task-type figures
// (quality.h; built in for the demo models, kUnknownModelQuality for any other model).
//
// Config file (Options::config_file), YAML or JSON (JSON is read as YAML):
//   default:                      # optional: the profile of any model not listed
//     ttft_ms: 50
//     tokens_per_s: 500
//   profiles:                     # add or override per-model profiles
//     gpt-5.5: {ttft_ms: 120, tokens_per_s: 400, reasoning: true}
//     my-model: {ttft_ms: 10, tokens_per_s: 0, quality: {default: 0.9, math: 0.7}}
// Omitted fields keep the built-in (or default) value. A `quality` map replaces the model's
// per-task figures as a whole (here: math 0.7, every other task type 0.9); its `default`, when
// omitted, stays the model's current one. Quality values must be numbers in [0, 1].
//
// Model names: a model the table does not list under its exact name is looked up once more
// under its canonical spelling (CanonicalModelName: "claude-opus-4-7" -> "claude-opus-4.7"), so
// the vendors' own ids reach the demo models' profiles.
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
#include "emulator/quality.h"

namespace sy::emulator {

struct Profile {
  int64_t ttft_ms = 50;
  double tokens_per_s = 500;  // 0 = unlimited
  bool reasoning = false;
  Quality quality;
};

// `model` with a trailing date ("-20251001", a dash and 8 digits) removed and every '-' between
// two digits made a '.': "claude-haiku-4-5-20251001" -> "claude-haiku-4.5". Other names are
// returned unchanged.
std::string CanonicalModelName(std::string_view model);

// The time `tokens` tokens take under `profile`, multiplied by `slowdown` (10 for slow faults).
std::chrono::microseconds TokenTime(const Profile& profile, int64_t tokens, int slowdown = 1);
std::chrono::microseconds FirstTokenTime(const Profile& profile, int slowdown = 1);

class ProfileTable {
 public:
  ProfileTable();  // the built-in profiles of the demo models

  // The profile of `model` (or of its CanonicalModelName), or the default profile when it has
  // none.
  Profile Get(std::string_view model) const;
  void Put(std::string model, const Profile& profile);

  // Applies a config file over the current profiles. Fails as core::ReadRegularFile when the
  // file cannot be read (missing, not a regular file, larger than 16 MiB), else with
  // kInvalidRequest naming the file and the offending key; the table is unchanged on failure.
  core::Status LoadFile(const std::string& path);

 private:
  std::map<std::string, Profile, std::less<>> profiles_;
  Profile default_;
};

// Reads {"ttft_ms", "tokens_per_s", "reasoning", "quality"} over `base` (quality as
// QualityFromJson reads it). Fails with kInvalidRequest naming the field ("quality.math: must be
// a number in [0, 1]") when a field has the wrong type or is out of range.
core::Result<Profile> ProfileFromJson(const boost::json::object& fields, Profile base);
boost::json::object ProfileToJson(const Profile& profile);

}  // namespace sy::emulator
