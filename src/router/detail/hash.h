// Internal to router: the hashes the model's features and the validation split are built on.
//
// They are part of the model file's meaning: a model was trained with these exact functions, so
// changing one silently turns every shipped model into noise. hash_test.cpp pins their values;
// a change must come with a new kFormatVersion and a retrained model.
//
// Thread-safety: pure constexpr functions.
#pragma once

#include <cstdint>
#include <string_view>

namespace sy::router::detail {

inline constexpr uint64_t kFnvOffset = 0xcbf29ce484222325ULL;
inline constexpr uint64_t kFnvPrime = 0x100000001b3ULL;

// One FNV-1a step: folds `byte` into `hash`.
constexpr uint64_t FnvStep(uint64_t hash, uint8_t byte) { return (hash ^ byte) * kFnvPrime; }

// FNV-1a 64 of `bytes`, continuing from `hash`.
constexpr uint64_t Fnv1a64(std::string_view bytes, uint64_t hash = kFnvOffset) {
  for (const char c : bytes) hash = FnvStep(hash, static_cast<uint8_t>(c));
  return hash;
}

// A fixed 64-bit finaliser (SplitMix64's): FNV's low bits are weak, and buckets are low bits.
constexpr uint64_t Mix64(uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

}  // namespace sy::router::detail
