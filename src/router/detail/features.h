// Internal to router: what the model reads from a prompt. Model::Score and the trainer both go
// through these functions, so a feature means the same thing when it is learnt and when it is used.
//
// Text: the user's texts only (system instructions and assistant turns say little about how hard
// the question is). The last user turn counts in full, earlier user turns at
// FeatureSettings::earlier_turn_weight; at most max_scan_bytes are read, last turn first, so a
// pasted 100 KB document costs no more than 8 KB of prompt.
//
// Sparse features, hashed into 2^bucket_bits buckets (hash.h), each occurrence counted:
//   word unigrams and bigrams: a word is a run of ASCII letters and digits and of non-ASCII bytes,
//     ASCII case-folded, every digit folded to '0' (so numbers are bucketed by their digit count);
//     with `punctuation`, every other printable ASCII character is a one-character token
//     ("?", "$", "=", "\\" carry math and question form);
//   with char_min > 0, the character n-grams (char_min..char_max bytes) of each "<word>".
// Each kind is normalised apart: an occurrence weighs turn_weight / sqrt(the kind's summed weight),
// so a long prompt does not drown the dense features.
//
// Dense features (kDenseCount slots): a bias, log length, digit share, number count, math
// notation, code markers, question form, multiple-choice options (MMLU's "A. ... D."), non-ASCII
// share, lines, sentences, word length, commas and the task type one-hot.
//
// Thread-safety: pure functions over values. Nothing here allocates.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "core/prompt.h"

namespace sy::router::detail {

inline constexpr size_t kDenseCount = 32;
inline constexpr uint32_t kMaxBucketBits = 20;
// The dense slot that is 1 when the prompt's last user turn lists multiple-choice options (three
// of "A." to "D." at line starts, "(B)" and "C)" too): the model's regime (model_file.h).
inline constexpr size_t kOptionsSlot = 11;
inline constexpr uint32_t kMaxCharGram = 8;

// How features are read: stored in the model file, so scoring reads exactly what training read.
struct FeatureSettings {
  uint32_t bucket_bits = 16;
  bool unigrams = true;
  bool bigrams = true;
  bool punctuation = true;
  uint32_t char_min = 0;  // 0: no character n-grams
  uint32_t char_max = 0;
  uint32_t max_scan_bytes = 8192;
  float earlier_turn_weight = 0.5f;
};

enum class SparseKind : uint8_t { kUnigram, kBigram, kCharGram };
inline constexpr size_t kSparseKinds = 3;

struct SparseHit {
  SparseKind kind = SparseKind::kUnigram;
  uint32_t bucket = 0;
  float weight = 0;
};

// Receives the sparse feature occurrences in text order, in batches (one virtual call per batch,
// not per occurrence: scoring is on every request's path).
class SparseVisitor {
 public:
  virtual ~SparseVisitor() = default;
  virtual void Add(std::span<const SparseHit> hits) = 0;
};

// Calls visitor.Add for every sparse feature occurrence of the prompt's user texts.
// REQUIRES: settings valid (ValidSettings).
void VisitSparse(const core::Prompt& prompt, const FeatureSettings& settings,
                 SparseVisitor& visitor);

// The dense features of the prompt's last user turn (and the task type, an index 0..11 or
// anything else for unknown).
void ComputeDense(const core::Prompt& prompt, int task_type, const FeatureSettings& settings,
                  std::array<float, kDenseCount>& out);

// Whether settings read from a file are usable (bucket bits, n-gram range, scan bound).
bool ValidSettings(const FeatureSettings& settings);

// The bucket of a token hash of one kind (exposed for the hash pin tests).
uint32_t BucketOf(uint64_t hash, SparseKind kind, uint32_t bucket_bits);

}  // namespace sy::router::detail
