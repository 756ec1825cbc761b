// router::Model: the learned strong-or-weak router. Per prompt, a score in [0, 1]: how likely the
// strong model is needed (its answer better than the weak model's). The routing policy's
// `router` rule action sends a prompt whose score is at or above the rule's threshold to the
// strong model, the rest to the weak one (docs/routing.md, "The learned router").
//
// The model is trained offline (`switchyard router train`, router/train.h) on per-prompt
// outcomes of a strong and a weak model and shipped as one file: its format version, the
// training command, the SHA-256 of the training data, the seed, the feature settings, the
// calibration (the training scores' quantiles, so a policy can ask for a strong-call share or a
// budget instead of a raw threshold) and the weights. Load refuses a file that is missing,
// truncated, corrupted (a checksum over the whole file) or of another format version.
//
// Scoring is pure, in-process and allocation-free: hashed words and word pairs of the user's
// texts plus cheap structural features (length, digits, math notation, code, question form,
// multiple-choice options, language, the classifier's task type) through linear layers
// (router/detail/model_file.h has the model; docs/routing.md, "Training and evaluating the
// router", how it was chosen and how well it routes). About 15-20 µs for a 2 KB prompt
// (bench/micro/router_bench.cpp).
//
// Thread-safety: immutable after Load; Score may be called from any thread at once.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/prompt.h"
#include "core/result.h"

namespace sy::router {

// The file's format version; a file of another version is refused at load.
inline constexpr uint32_t kFormatVersion = 2;

// Unknown task type (a prompt scored without the classifier, as in training data with none).
inline constexpr int kNoTaskType = -1;

// What the file says about itself.
struct Metadata {
  uint32_t format_version = kFormatVersion;
  // The training command that rebuilds the file bit for bit (canonical form: every option in a
  // fixed order, values as typed; run from the directory it names its files from).
  std::string command{};
  std::string data_sha256{};  // hex SHA-256 of the training data file
  uint64_t seed = 0;
  std::string strong{};  // the strong and weak models of the training data (as named there)
  std::string weak{};
  int64_t train_examples = 0;       // prompts trained on (the validation split excluded)
  int64_t validation_examples = 0;  // prompts held out (by a hash of their id)
  double mean_prompt_tokens = 0;    // over the training prompts, estimated as bytes / 4
};

// The largest model file Load reads: the shipped one is 2.2 MB; this leaves room for thirty
// times the layers while refusing /dev/zero or a wrong file of gigabytes before it fills memory.
inline constexpr uint64_t kMaxModelFileBytes = 64 << 20;

class Model {
 public:
  // Reads and checks the file at `path`. Fails naming the path and what is wrong: as
  // core::ReadRegularFile when it is missing, unreadable, not a regular file or larger than
  // kMaxModelFileBytes; with kInvalidRequest when it is not a router model, another format
  // version (naming both), truncated or corrupted (checksum).
  static core::Result<std::shared_ptr<const Model>> Load(const std::string& path);
  // The same from the file's bytes; `name` is what errors call it.
  static core::Result<std::shared_ptr<const Model>> Parse(std::string_view bytes,
                                                          std::string_view name);

  // How likely the strong model is needed for `prompt`, in [0, 1]: the model's estimate of the
  // strong model's expected gain over the weak one (in [-1, 1]) mapped linearly onto [0, 1], so
  // 0.5 means no gain expected; thresholds and shares compare. `task_type` is routing::TaskType
  // as an index (kNoTaskType, or any value outside 0..11, when unknown). Reads the user's texts
  // only, the last turn first and at most 8 KB of them. Deterministic; allocates nothing.
  double Score(const core::Prompt& prompt, int task_type) const;

  // The threshold that sends `strong_share` (0..1) of the training prompts to the strong model
  // (a quantile of their scores, interpolated in the 1001-point table): target_strong_share in a
  // policy. A share of 1 or more gives 0 (every prompt strong); 0 or less (or NaN) gives a
  // threshold above 1 (none). Traffic unlike the training prompts gets another share: the
  // table is the training data's.
  double ThresholdForShare(double strong_share) const;
  // The share of training prompts at or above `threshold` (the inverse, for explain): 1 at or
  // below the lowest training score, 0 above the highest.
  double ShareAtThreshold(double threshold) const;

  const Metadata& metadata() const;

  ~Model();
  Model(const Model&) = delete;
  Model& operator=(const Model&) = delete;

 private:
  struct Impl;
  explicit Model(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace sy::router
