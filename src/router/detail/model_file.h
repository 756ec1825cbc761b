// Internal to router: the model, in memory (ModelData) and on disk, and how it scores a prompt.
// Model (router.h) wraps a parsed ModelData; the trainer (train.h) builds one and serialises it.
//
// Prompts fall in two regimes, told apart by multiple-choice options (features.h, kOptionsSlot),
// because what predicts the strong model's gain differs between them (docs/routing.md,
// "Training and evaluating the router"):
//   with options  (exam questions)  the topic decides most of the gain. A softmax over the
//                 training topics (MMLU's subjects), reading unigrams only, gives
//                 T = the topics' mean strong - weak gains weighted by their probabilities, and
//                 a gain layer gives R; raw = (T + blend R) / (1 + blend);
//   free-form     a gain layer of its own gives raw = R.
// A gain layer has two logistic heads, P(weak fails) and P(strong fails), and R is their
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
//     layer topics, layer options_gain, layer free_form_gain
//                                   a layer: u32 outputs, u32 bucket_bits,
//                                   f32 x kDenseCount x outputs (dense, feature-major),
//                                   f32 x 2^bucket_bits x outputs (sparse, bucket-major)
//     u32 n, f64 x n                the topics' gains (n = topics outputs)
//     f64 blend
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

struct ModelData {
  Metadata metadata;
  FeatureSettings features;
  Layer topics;                     // one output per topic, over shared unigrams only
  std::vector<double> topic_gains;  // per topic, its expected strong - weak
  Layer options_gain;               // kGainHeads outputs (or none), prompts with options
  Layer free_form_gain;             // kGainHeads outputs (or none), the others
  double blend = 1.0;               // the weight of R beside T for prompts with options
  std::vector<double> calibration;  // kCalibrationPoints ascending training-score quantiles
};

// The file's bytes, checksum included.
std::string Serialize(const ModelData& model);

// Checks and parses a file's bytes; errors (kInvalidRequest) start with "router model <name>: ".
core::Result<ModelData> Deserialize(std::string_view bytes, std::string_view name);

// What a score is made of.
struct ScoreParts {
  bool options = false;  // the regime
  double gain = 0;       // R in [-1, 1] (0 when the regime's gain layer is empty)
  double topic = 0;      // T in [-1, 1] (prompts with options)
};

ScoreParts PartsOf(const ModelData& model, const core::Prompt& prompt, int task_type);

// The score in [0, 1] of its parts.
double Combine(const ScoreParts& parts, double blend);

// PartsOf then Combine.
double ScoreWith(const ModelData& model, const core::Prompt& prompt, int task_type);

// R from the gain heads' logits; T from the topic logits (softmax, in place) and gains.
double GainOf(double weak_fails_logit, double strong_fails_logit);
double TopicOf(std::span<double> logits, std::span<const double> gains);

// The calibration table of a set of scores: kCalibrationPoints quantiles at i / 1000.
std::vector<double> CalibrationOf(std::vector<double> scores);

}  // namespace sy::router::detail
