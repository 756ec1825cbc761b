// Internal to router: the model, in memory (ModelData) and on disk, and how it scores a prompt.
// Model (router.h) wraps a parsed ModelData; the trainer (train.h) builds one and serialises it.
//
// Prompts fall in two regimes, told apart by multiple-choice options (features.h, kOptionsSlot),
// because what predicts the strong model's gain differs between them (docs/routing.md,
// "Training and evaluating the router"). Both have the same parts:
//   topics      a softmax over the regime's training topics (MMLU's subjects for exam questions;
//               GSM8K and MT-Bench's categories for free-form prompts), reading unigrams only,
//               gives each topic's probability p_t;
//   T           the topics' mean strong - weak gains weighted by their probabilities;
//   R           the expected gain by a gain layer. With a general layer too, R mixes two: the
//               regime's own (a specialist, trained on the regime's prompts) at weight
//               a = sum of p_t over the topics it covers, the general layer (trained on every
//               prompt, the other regime's down-weighted) at 1 - a;
//   raw         topic_weight T + (1 - topic_weight) R.
// A gain layer has two logistic heads, P(weak fails) and P(strong fails), and its R is their
// difference: both T and R estimate the expected gain, in [-1, 1]. Score = (raw + 1) / 2.
// Each layer reads the features' buckets at its own resolution (bucket >> the bits it lacks).
//
// The file (integers and floats little-endian):
//   "SYROUTER"                      8-byte magic
//   u32 format version              kFormatVersion
//   u32 0                           reserved
//   u64 body bytes
//   body:
//     metadata   str command, str data_sha256, u64 seed, str strong, str weak,
//                i64 train_examples, i64 validation_examples, f64 mean_prompt_tokens
//     features   u32 bucket_bits, u8 unigrams, u8 bigrams, u8 punctuation, u32 char_min,
//                u32 char_max, u32 max_scan_bytes, f32 earlier_turn_weight
//     regime options, regime free_form
//                                   a regime: layer topics, u32 n, f64 x n (the topics' gains),
//                                   u32 n, f64 x n (the share of each topic the specialist
//                                   covers, 0 or 1), layer gain (the specialist), layer general,
//                                   f64 topic_weight; n = the topics' outputs
//                                   a layer: u32 outputs, u32 bucket_bits,
//                                   f32 x kDenseCount x outputs (dense, feature-major),
//                                   f32 x 2^bucket_bits x outputs (sparse, bucket-major)
//     u32 n, f64 x n                calibration: kCalibrationPoints ascending score quantiles
//   32 bytes                        SHA-256 of everything before it
// A str is a u32 length and its bytes.
//
// Thread-safety: pure functions over values; ScoreWith allocates nothing.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/prompt.h"
#include "core/result.h"
#include "router/detail/features.h"
#include "router/router.h"

namespace sy::router::detail {

inline constexpr std::string_view kMagic = "SYROUTER";
inline constexpr size_t kHeaderBytes = 24;
inline constexpr size_t kChecksumBytes = 32;
inline constexpr size_t kCalibrationPoints = 1001;
inline constexpr size_t kGainHeads = 2;
inline constexpr size_t kMaxTopics = 256;

struct Layer {
  uint32_t outputs = 0;
  uint32_t bucket_bits = 0;   // at most FeatureSettings::bucket_bits: bucket >> (difference)
  std::vector<float> dense;   // dense[j * outputs + o]
  std::vector<float> sparse;  // sparse[b * outputs + o]
};

// One regime's layers.
struct Regime {
  Layer topics;                     // one output per topic (or none), over shared unigrams only
  std::vector<double> topic_gains;  // per topic, its expected strong - weak
  std::vector<double> specialist;   // per topic, 1 when the gain layer covers it, else 0
  Layer gain;                       // the specialist: kGainHeads outputs (or none)
  Layer general;                    // kGainHeads outputs, or none: R is the specialist's alone
  double topic_weight = 0;          // T's weight in raw, in [0, 1]
};

struct ModelData {
  Metadata metadata;
  FeatureSettings features;
  Regime options;                   // prompts with multiple-choice options
  Regime free_form;                 // the others
  std::vector<double> calibration;  // kCalibrationPoints ascending training-score quantiles
};

// The file's bytes, checksum included.
std::string Serialize(const ModelData& model);

// Checks and parses a file's bytes; errors (kInvalidRequest) start with "router model <name>: ".
core::Result<ModelData> Deserialize(std::string_view bytes, std::string_view name);

// What a score is made of.
struct ScoreParts {
  bool options = false;     // the regime
  double gain = 0;          // R in [-1, 1] (0 when the regime has no gain layer)
  double topic = 0;         // T in [-1, 1] (0 when it has no topics)
  double topic_weight = 0;  // the regime's weight of T
};

ScoreParts PartsOf(const ModelData& model, const core::Prompt& prompt, int task_type);

// The score in [0, 1] of its parts.
double Combine(const ScoreParts& parts);

// PartsOf then Combine.
double ScoreWith(const ModelData& model, const core::Prompt& prompt, int task_type);

// R from the gain heads' logits.
double GainOf(double weak_fails_logit, double strong_fails_logit);
// Turns logits into probabilities, in place.
void Softmax(std::span<double> logits);
// The probabilities' weighted sum of `values` (T from the topic gains; a from the specialist's
// shares).
double Expect(std::span<const double> probabilities, std::span<const double> values);

// The calibration table of a set of scores: kCalibrationPoints quantiles at i / 1000.
std::vector<double> CalibrationOf(std::vector<double> scores);

}  // namespace sy::router::detail
