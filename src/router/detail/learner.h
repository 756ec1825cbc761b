// Internal to router: the learning machinery behind Train (train.h), exposed for its tests and
// for experiments with other settings: encoding examples, fitting the two layers of the model
// (model_file.h), cross-validation inside the training split.
//
// Both layers learn by AdaGrad with per-touch L2 over examples in a seeded Fisher-Yates order,
// single-threaded: the same inputs and seed give the same weights, bit for bit. Dense features
// are standardised while learning and the weights folded back afterwards, so the stored layer
// reads raw features.
//
// Thread-safety: pure functions over values.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <random>
#include <span>
#include <utility>
#include <vector>

#include "router/detail/features.h"
#include "router/detail/model_file.h"
#include "router/train.h"

namespace sy::router::detail {

// The gain layer: two logistic heads on 1 - weak and 1 - strong (outcomes in [0, 1]).
struct GainConfig {
  uint32_t bucket_bits = 16;
  double smoothing = 1.0;   // label weight: y' = s y + (1 - s) topic mean; 1 = raw outcomes
  double topic_prior = 10;  // pseudo-examples of the source's mean in a topic's mean
  double l2_sparse = 1e-2;  // per-touch L2 on hashed weights
  double l2_dense = 1e-5;   // ... and on the dense ones
  double learning_rate = 0.05;
  int epochs = 8;
};

// The topic layer: a softmax over the training topics.
struct TopicConfig {
  uint32_t bucket_bits = 12;
  double gain_prior = 10;  // pseudo-examples of the source's mean gain in a topic's gain
  // Topics with at least this many training rows are the specialist gain layer's
  // (model_file.h); the others' prompts lean on the general layer.
  double specialist_min_rows = 0;
  double l2_sparse = 1e-5;
  double l2_dense = 1e-5;
  double learning_rate = 0.3;
  int epochs = 4;
};

// An example's features, already normalised; sparse lists merged by bucket, ascending.
struct Encoded {
  std::vector<std::pair<uint32_t, float>> sparse;    // every occurrence (the gain layer's)
  std::vector<std::pair<uint32_t, float>> unigrams;  // shared unigrams (the topic layer's)
  std::array<float, kDenseCount> dense{};
};

std::vector<Encoded> Encode(std::span<const Example> examples, const FeatureSettings& settings);

// A fitted layer, in double until stored.
struct LinearFit {
  uint32_t outputs = 0;
  uint32_t bucket_bits = 0;
  std::vector<double> dense;
  std::vector<double> sparse;
};

// The topics of examples[rows] (one regime's): topic_of[i] indexes names (source and topic,
// sorted), kNoTopic for an example not in rows.
inline constexpr uint32_t kNoTopic = ~uint32_t{0};
struct Topics {
  std::vector<std::string> names;
  std::vector<uint32_t> topic_of;
};
Topics TopicsOf(std::span<const Example> examples, std::span<const size_t> rows);

struct TopicFit {
  LinearFit layer;
  std::vector<double> gains;       // per topic, its smoothed mean strong - weak over the rows
  std::vector<double> specialist;  // per topic, 1 when it has specialist_min_rows rows, else 0
};

// `weights`, per example (empty: 1 each), scale each row's gradient.
LinearFit FitGain(std::span<const Example> examples, std::span<const Encoded> encoded,
                  std::span<const size_t> rows, const GainConfig& config,
                  const FeatureSettings& settings, uint64_t seed,
                  std::span<const double> weights = {});

TopicFit FitTopics(std::span<const Example> examples, std::span<const Encoded> encoded,
                   const Topics& topics, std::span<const size_t> rows, const TopicConfig& config,
                   const FeatureSettings& settings, uint64_t seed);

// R of one gain layer (model_file.h) for one encoded example.
double PredictGain(const LinearFit& gain, const Encoded& x, const FeatureSettings& settings);
// T and the specialist's share a of one encoded example (both 0 without topics).
struct TopicParts {
  double topic = 0;
  double specialist_share = 0;
};
TopicParts PredictTopic(const TopicFit& topics, const Encoded& x, const FeatureSettings& settings);

// The 5-fold cross-validation fold of an id of the training split (0..4, by its hash).
size_t FoldOf(std::string_view id);

// Whether an encoded example lists multiple-choice options: its regime (model_file.h).
bool HasOptions(const Encoded& x);

// Out-of-fold R and T of examples[rows] (in rows order): each from a fit on the other folds.
std::vector<double> CrossValidateGain(std::span<const Example> examples,
                                      std::span<const Encoded> encoded,
                                      std::span<const size_t> rows, const GainConfig& config,
                                      const FeatureSettings& settings, uint64_t seed,
                                      std::span<const double> weights = {});
std::vector<TopicParts> CrossValidateTopics(std::span<const Example> examples,
                                            std::span<const Encoded> encoded, const Topics& topics,
                                            std::span<const size_t> rows, const TopicConfig& config,
                                            const FeatureSettings& settings, uint64_t seed);

// Per source (in order of first appearance), the metrics of out-of-fold `scores` for
// examples[rows]: each fold's APGR and CPT(50%) apart, then averaged, since each fold's scores
// come from a different fit (pooled, their offsets would blur the ranking).
std::vector<FoldScore> ScoreBySource(std::span<const Example> examples,
                                     std::span<const size_t> rows, std::span<const double> scores);

// The selection criterion: per-source APGR weighted by n / (n + 200), so a 48-prompt source
// counts a fifth as much as a large one.
double Criterion(std::span<const FoldScore> sources);

// Fisher-Yates with std::mt19937_64 draws taken modulo (portable, unlike std::shuffle).
void Shuffle(std::vector<size_t>& order, std::mt19937_64& rng);

}  // namespace sy::router::detail
