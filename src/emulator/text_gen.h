// Deterministic building blocks for generated answers: hashing, a seeded RNG, word-piece text,
// fixed-size text pieces ("tokens") and ids.
//
// The emulator's token model: generated prose is a list of pieces, one per token, each a word
// with its leading space (" river"). Any other text (JSON, tool arguments, quoted tool results) is
// cut into pieces of 4 bytes, never splitting a UTF-8 sequence, one token each; so a text of c
// bytes counts ceil(c / 4) tokens.
//
// Thread-safety: free functions are pure; an Rng is a plain value owned by one user.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace sy::emulator {

inline constexpr uint64_t kFnvOffset = 14695981039346656037ULL;

// 64-bit FNV-1a of `data`, continuing from `seed`.
uint64_t Fnv1a(std::string_view data, uint64_t seed = kFnvOffset);
// Combines two hashes (order matters).
uint64_t Mix(uint64_t a, uint64_t b);

// SplitMix64: small, fast, and the same sequence on every platform for a given seed.
class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  uint64_t Next();
  // Uniform in [0, 1).
  double Uniform();
  // Uniform in [0, bound). REQUIRES: bound > 0.
  uint64_t Below(uint64_t bound);
  uint64_t state() const { return state_; }

 private:
  uint64_t state_;
};

// `count` word pieces of plausible prose derived from `seed`: capitalised sentences ending in '.'.
std::vector<std::string> GenerateWordPieces(uint64_t seed, int64_t count);

// Splits known prose into word pieces (" word"), the first without a leading space: one token
// per word, as generated prose counts.
std::vector<std::string> SplitWords(std::string_view text);

// Cuts text into pieces of `piece_bytes` bytes (a UTF-8 sequence is never split).
std::vector<std::string> SplitIntoPieces(std::string_view text, size_t piece_bytes = 4);

// ceil(bytes / 4): the token count of text that is not generated prose.
int64_t CountTextTokens(std::string_view text);

std::string JoinPieces(const std::vector<std::string>& pieces);

// `length` characters of [0-9A-Za-z] derived from `seed`.
std::string Base62Id(uint64_t seed, size_t length);
// `length` lower-case hex digits derived from `seed`.
std::string HexId(uint64_t seed, size_t length);

}  // namespace sy::emulator
