#include "router/train.h"

#include <array>
#include <cmath>
#include <sstream>

#include "router/detail/hash.h"
#include "router/detail/learner.h"
#include "router/detail/model_file.h"
#include "router/detail/sha256.h"

namespace sy::router {
namespace {

using detail::Encoded;
using detail::FeatureSettings;
using detail::GainConfig;
using detail::TopicConfig;

// The features every layer reads, at the finest resolution any layer uses (chosen by
// cross-validation inside the training split; docs/routing.md, "Training and evaluating the
// router").
FeatureSettings Features() {
  FeatureSettings f;
  f.bucket_bits = 16;
  f.unigrams = true;
  f.bigrams = true;
  f.punctuation = true;
  return f;
}

GainConfig Gain(uint32_t bits, double smoothing, double l2, double rate, int epochs) {
  GainConfig c;
  c.bucket_bits = bits;
  c.smoothing = smoothing;
  c.l2_sparse = l2;
  c.learning_rate = rate;
  c.epochs = epochs;
  return c;
}

// Prompts with options: from raw outcomes under strong L2 to topic-smoothed ones under light L2,
// each beside the topic layer at several blends.
const std::array<GainConfig, 3> kOptionsGrid = {
    Gain(12, 1.0, 1e-2, 0.05, 8), Gain(12, 0.5, 1e-3, 0.1, 8), Gain(12, 0.2, 1e-4, 0.3, 8)};
constexpr std::array<double, 4> kBlends = {0.1, 0.25, 0.5, 1.0};
// Free-form prompts: 900 of them, so small learning rates and few epochs (early stopping).
const std::array<GainConfig, 4> kFreeFormGrid = {
    Gain(16, 1.0, 1e-3, 0.1, 4), Gain(16, 1.0, 1e-3, 0.04, 8), Gain(16, 1.0, 1e-2, 0.04, 8),
    Gain(16, 1.0, 1e-2, 0.1, 8)};

std::string Describe(const GainConfig& c) {
  std::ostringstream s;
  s << "smoothing=" << c.smoothing << " l2=" << c.l2_sparse << " rate=" << c.learning_rate
    << " epochs=" << c.epochs;
  return s.str();
}

std::vector<float> ToFloat(const std::vector<double>& v) {
  std::vector<float> out(v.size());
  for (size_t i = 0; i < v.size(); ++i) out[i] = static_cast<float>(v[i]);
  return out;
}

detail::Layer ToLayer(const detail::LinearFit& fit) {
  detail::Layer layer;
  layer.outputs = fit.outputs;
  layer.bucket_bits = fit.bucket_bits;
  layer.dense = ToFloat(fit.dense);
  layer.sparse = ToFloat(fit.sparse);
  return layer;
}

core::Status CheckOutcomes(const Example& e) {
  for (const double v : {e.strong, e.weak}) {
    if (!(v >= 0 && v <= 1)) {
      return core::MakeError(core::Errc::kInvalidRequest,
                             "example " + e.id + ": outcomes must be normalised to [0, 1]");
    }
  }
  return {};
}

// Marks the best candidate of [first, end) chosen; returns its index.
size_t Choose(std::vector<Candidate>& candidates, size_t first) {
  size_t best = first;
  for (size_t i = first; i < candidates.size(); ++i) {
    if (candidates[i].criterion > candidates[best].criterion) best = i;
  }
  candidates[best].chosen = true;
  return best - first;
}

struct Split {
  std::vector<Example> train;
  std::vector<Encoded> encoded;
  std::vector<size_t> options;    // rows of prompts with options
  std::vector<size_t> free_form;  // the others
};

// The options regime's choice: a gain setting and a blend, by cross-validation.
std::pair<GainConfig, double> SelectOptions(const Split& s, const detail::Topics& topics,
                                            const FeatureSettings& f, uint64_t seed,
                                            std::vector<Candidate>& candidates) {
  if (s.options.empty()) return {kOptionsGrid[0], kBlends[0]};
  const auto topic_oof =
      detail::CrossValidateTopics(s.train, s.encoded, topics, s.options, TopicConfig{}, f, seed);
  const size_t first = candidates.size();
  for (const GainConfig& config : kOptionsGrid) {
    const auto gain_oof = detail::CrossValidateGain(s.train, s.encoded, s.options, config, f, seed);
    for (const double blend : kBlends) {
      std::vector<double> oof(s.options.size());
      for (size_t i = 0; i < oof.size(); ++i) {
        oof[i] = detail::Combine({true, gain_oof[i], topic_oof[i]}, blend);
      }
      Candidate c;
      c.regime = "options";
      std::ostringstream name;
      name << Describe(config) << " blend=" << blend;
      c.name = name.str();
      c.sources = detail::ScoreBySource(s.train, s.options, oof);
      c.criterion = detail::Criterion(c.sources);
      candidates.push_back(std::move(c));
    }
  }
  const size_t best = Choose(candidates, first);
  return {kOptionsGrid[best / kBlends.size()], kBlends[best % kBlends.size()]};
}

GainConfig SelectFreeForm(const Split& s, const FeatureSettings& f, uint64_t seed,
                          std::vector<Candidate>& candidates) {
  if (s.free_form.empty()) return kFreeFormGrid[0];
  const size_t first = candidates.size();
  for (const GainConfig& config : kFreeFormGrid) {
    const auto oof = detail::CrossValidateGain(s.train, s.encoded, s.free_form, config, f, seed);
    std::vector<double> scores(oof.size());
    for (size_t i = 0; i < oof.size(); ++i) scores[i] = detail::Combine({false, oof[i], 0}, 0);
    Candidate c;
    c.regime = "free-form";
    c.name = Describe(config);
    c.sources = detail::ScoreBySource(s.train, s.free_form, scores);
    c.criterion = detail::Criterion(c.sources);
    candidates.push_back(std::move(c));
  }
  return kFreeFormGrid[Choose(candidates, first)];
}

}  // namespace

bool InValidationSplit(std::string_view id) { return detail::Fnv1a64(id) % 5 == 0; }

std::string Sha256Hex(std::string_view bytes) { return detail::Sha256Hex(bytes); }

core::Result<TrainResult> Train(std::span<const Example> examples, const TrainOptions& options) {
  TrainResult result;
  Split s;
  for (const Example& e : examples) {
    if (auto ok = CheckOutcomes(e); !ok) return ok.error();
    if (InValidationSplit(e.id)) {
      result.validation_examples++;
    } else {
      s.train.push_back(e);
    }
  }
  if (s.train.empty()) {
    return core::MakeError(core::Errc::kInvalidRequest,
                           "no examples to train on (all are in the validation split)");
  }
  result.train_examples = static_cast<int64_t>(s.train.size());
  const FeatureSettings f = Features();
  s.encoded = detail::Encode(s.train, f);
  for (size_t i = 0; i < s.train.size(); ++i) {
    (detail::HasOptions(s.encoded[i]) ? s.options : s.free_form).push_back(i);
  }
  const detail::Topics topics = detail::TopicsOf(s.train, s.encoded);
  const auto [options_config, blend] = SelectOptions(s, topics, f, options.seed, result.candidates);
  const GainConfig free_form_config = SelectFreeForm(s, f, options.seed, result.candidates);

  detail::ModelData model;
  Metadata& md = model.metadata;
  md.command = options.command;
  md.data_sha256 = options.data_sha256;
  md.seed = options.seed;
  md.strong = options.strong;
  md.weak = options.weak;
  md.train_examples = result.train_examples;
  md.validation_examples = result.validation_examples;
  double bytes = 0;
  for (const Example& e : s.train) bytes += static_cast<double>(e.text.size());
  md.mean_prompt_tokens = bytes / 4.0 / static_cast<double>(s.train.size());
  model.features = f;
  model.blend = blend;
  if (!s.options.empty()) {
    const detail::TopicFit topic =
        detail::FitTopics(s.train, s.encoded, topics, s.options, TopicConfig{}, f, options.seed);
    model.topics = ToLayer(topic.layer);
    model.topic_gains = topic.gains;
    model.options_gain =
        ToLayer(detail::FitGain(s.train, s.encoded, s.options, options_config, f, options.seed));
  }
  if (!s.free_form.empty()) {
    model.free_form_gain = ToLayer(
        detail::FitGain(s.train, s.encoded, s.free_form, free_form_config, f, options.seed));
  }
  std::vector<double> scores;
  scores.reserve(s.train.size());
  for (const Example& e : s.train) {
    scores.push_back(detail::ScoreWith(model, detail::SingleUserPrompt(e.text), e.task_type));
  }
  model.calibration = detail::CalibrationOf(std::move(scores));
  result.model_bytes = detail::Serialize(model);
  return result;
}

}  // namespace sy::router
