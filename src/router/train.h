// router::Train: fits the learned router (router.h) on per-prompt outcomes of a strong and a weak
// model, and returns the model file's bytes. Pure over plain data: the caller reads the data file
// (router/data.h) and classifies each prompt's task type; no I/O, clock or threads here.
//
// What it does (docs/routing.md, "Training and evaluating the router", has the measurements
// behind each choice):
//   split       examples whose InValidationSplit(id) holds are held out and never seen; the rest
//               is the training split;
//   model       (router/detail/model_file.h) the score estimates the strong model's expected gain
//               over the weak one, which is what RouteLLM's metrics reward. Prompts with
//               multiple-choice options (exam questions) and free-form prompts are two regimes,
//               each with a softmax over its examples' topics (`topic`: the MMLU subject, the
//               MT-Bench category) and a gain layer of its own. For exam questions the topics'
//               mean gains are blended with the gain layer; for free-form prompts the topics
//               gate between the regime's gain layer (for topics with 100 or more training
//               prompts) and a general one trained on every prompt, the exam questions
//               down-weighted. A gain layer is two logistic heads, P(weak fails) and
//               P(strong fails), whose labels may be shrunk towards their topic's mean;
//   learning    AdaGrad over the training split in a seeded Fisher-Yates order, L2 on every
//               weight it touches; single-threaded, so the same inputs and seed give the same
//               bytes;
//   selection   per regime, a small grid of gain-layer settings (with topic weights, or with
//               general layer settings), each scored by 5-fold cross-validation inside the
//               training split (folds by a hash of the id); the best, by the APGR of its
//               out-of-fold scores per source, is refitted on the whole training split;
//   calibration the final model's scores of the training prompts, as 1001 quantiles.
//
// Thread-safety: pure functions; Train may run on any thread.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "router/metrics.h"
#include "router/router.h"

namespace sy::router {

// One prompt with both models' outcomes.
struct Example {
  std::string id{};             // stable and unique: it decides the split
  std::string source{};         // the benchmark it comes from; metrics and balancing are per source
  std::string topic{};          // a finer group within the source (MMLU subject), "" for none
  std::string text{};           // the user's prompt
  int task_type = kNoTaskType;  // routing::TaskType as an index, as Model::Score receives it
  double strong = 0;  // outcomes normalised to [0, 1], 1 the best (router/data.h normalises)
  double weak = 0;
};

// Whether an example with this id is held out for validation: FNV-1a-64(id) % 5 == 0, about a
// fifth, the same for every seed and every tool that reads the data.
bool InValidationSplit(std::string_view id);

// Lower-case hex SHA-256 of `bytes`: Metadata::data_sha256 of a training data file.
std::string Sha256Hex(std::string_view bytes);

struct TrainOptions {
  uint64_t seed = 1;
  // Recorded in the file's metadata as given.
  std::string command{};
  std::string data_sha256{};
  std::string strong{};
  std::string weak{};
};

// The cross-validated figures of one source under one candidate setting.
struct FoldScore {
  std::string source{};
  int64_t n = 0;
  double apgr = 0;
  double cpt50 = 0;
};

struct Candidate {
  std::string regime{};  // "options" or "free-form" (router/detail/model_file.h)
  std::string name{};    // its settings, e.g. "smoothing=1 l2=0.01 ... topic_weight=0.8"
  double criterion = 0;  // what selection maximised (per-source APGR, small sources discounted)
  std::vector<FoldScore> sources{};
  bool chosen = false;
};

struct TrainResult {
  std::string model_bytes{};  // the model file
  int64_t train_examples = 0;
  int64_t validation_examples = 0;
  std::vector<Candidate> candidates{};  // per regime, in grid order; one chosen per regime
};

// Trains on `examples` (all of them: the validation split is taken out here). Fails with
// kInvalidRequest when no example is left to train on, or an outcome is outside [0, 1].
core::Result<TrainResult> Train(std::span<const Example> examples, const TrainOptions& options);

}  // namespace sy::router
