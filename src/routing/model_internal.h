// Internal to routing: the learned task-type model. Classify uses it to pick the task type;
// sy_routing_train (tests/routing_eval/routing_train.cpp) uses the same feature extraction to
// fit its weights, which it writes to src/routing/model_weights.inc (generated; never edit).
//
// The model is multinomial logistic regression (softmax) over one feature vector per request:
//   sparse: hashed word unigrams and bigrams (ASCII case-folded, digits folded to 0; Han, kana
//           and Hangul one token per character, so bigrams are character bigrams), salted by
//           the region they were read in (Region below), each bucket counted once and all
//           weighing 1/sqrt(buckets set);
//   dense:  the cue scorer's per-type scores (scaled) and the structural facts (tools, output
//           format, images, documents, code, context, depth, length, questions, language).
//
// docs/routing.md ("The learned model") has the trainer command and how the choices were made.
//
// Thread-safety: pure functions over values. Extraction allocates nothing: FeatureVector is a
// fixed-size value the caller owns (about 6 KB; keep it on the stack or reuse it).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/prompt.h"
#include "routing/classify_internal.h"
#include "routing/features.h"

namespace sy::routing::detail {

// What the extraction reads. The trainer tries several (cross-validation); the weights file
// records the one it was trained with (kModelConfig) and Classify uses exactly that.
struct ModelConfig {
  uint32_t buckets = 8192;                // hashed buckets, a power of two, at most kMaxBuckets
  bool bigrams = true;                    // word (and CJK character) bigrams besides unigrams
  bool middle = true;                     // unigrams of the pasted middle of long last-turn texts
  bool shared = true;                     // every instruction word also under one region-free salt
  bool cue_scores = true;                 // the cue scorer's per-type scores as dense features
  bool cue_decision = false;              // ... and its decision, one-hot
  bool split_passage = false;             // a passage after a short instruction is read as kMiddle
  bool follow_up = false;                 // kFollowUp for earlier turns before a short last turn
  bool follow_up_as_instruction = false;  // ... read as kInstruction (it set the task)
  bool assistant = false;                 // read the most recent assistant text (kAssistant)
  bool normalize = false;                 // sparse features weigh 1/sqrt(count), not 1 (long texts
                                          // do not drown the dense features)
};

inline constexpr uint32_t kMaxBuckets = 16384;
inline constexpr size_t kMaxSparse = 1536;  // hashed features kept per request (the rest dropped)
inline constexpr size_t kDenseCount = 64;   // dense features; weights rows [buckets, +64)

// Regions: each salts the hashes of the words read in it.
enum class Region : uint8_t {
  kInstruction,  // last user turn: the first kHeadBytes and last kTailBytes of each text
  kMiddle,       // last user turn: the rest of a long text (unigrams only)
  kSystem,       // system texts, head and tail windows
  kEarlier,      // earlier user turns, head and tail windows
  kOpening,      // the first three tokens of the last user turn, by position
  kShared,       // instruction, system and earlier words again, under one salt
  kFollowUp,     // earlier user turns when the last turn is a short follow-up (instead of
                 // kEarlier: "shorter please" continues the task the earlier turn set)
  kAssistant,    // the most recent assistant text's head window
};

struct FeatureVector {
  // Bucket indexes, each at most once; only the first sparse_count are set. Not zeroed: a
  // request's classification writes a few dozen of the 1,536, and zeroing 6 KB cost more than
  // the prompt's whole sparse pass for short prompts.
  std::array<uint32_t, kMaxSparse> sparse;
  size_t sparse_count = 0;
  float sparse_value = 1.0f;  // the value of every sparse feature (see ModelConfig::normalize)
  std::array<float, kDenseCount> dense{};
};

// The hash of one token: a word (its case-folded characters, digits as 0), else the first
// character alone (an ideograph, punctuation). Pinned by model_test.cpp: retrain whenever it
// changes.
uint64_t TokenHash(std::string_view token);

// The bucket of a unigram (previous == 0) or bigram in `region`.
uint32_t Bucket(uint64_t token, uint64_t previous, Region region, uint32_t buckets);

// Fills `out` from the prompt, the cue scanner's evidence (after DecideType, whose result is
// `cue_type`) and the facts Classify computed (code, context, language).
void ExtractModelFeatures(const core::Prompt& prompt, const Evidence& ev, TaskType cue_type,
                          const Features& facts, const ModelConfig& config, FeatureVector& out);

// Whether agentic may be predicted: tools offered (not a single forced tool) or a tool already
// called. Words alone never make a request agentic (docs/routing.md).
bool MayAct(const core::Prompt& prompt);

// The committed model's type for `x` (extracted with ModelConfigInUse()).
TaskType PredictType(const core::Prompt& prompt, const FeatureVector& x);

// The configuration the committed weights were trained with.
const ModelConfig& ModelConfigInUse();

}  // namespace sy::routing::detail
