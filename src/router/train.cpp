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

TopicConfig Topic(uint32_t bits, double gain_prior, double rate, double specialist_min_rows) {
  TopicConfig c;
  c.bucket_bits = bits;
  c.gain_prior = gain_prior;
  c.learning_rate = rate;
  c.specialist_min_rows = specialist_min_rows;
  return c;
}

// A general gain layer's setting: its own, and the weight of the other regime's prompts.
struct GeneralConfig {
  GainConfig gain;
  double other_weight = 1;
};

// What cross-validation chooses from, per regime: every gain setting with every general
// setting (none when the list is empty) at every topic weight.
struct Grid {
  TopicConfig topics;
  std::span<const GainConfig> gains;
  std::span<const GeneralConfig> generals;
  std::span<const double> topic_weights;
};

// Prompts with options (MMLU's 57 subjects, ~170 training prompts each): T carries most of the
// signal; the gain layer ranges from raw outcomes under strong L2 to topic-smoothed ones under
// light L2. No general layer: every topic is the specialist's.
const TopicConfig kOptionsTopics = Topic(12, 10, 0.3, 0);
const std::array<GainConfig, 3> kOptionsGains = {
    Gain(12, 1.0, 1e-2, 0.05, 8), Gain(12, 0.5, 1e-3, 0.1, 8), Gain(12, 0.2, 1e-4, 0.3, 8)};
constexpr std::array<double, 4> kOptionsTopicWeights = {0.9, 0.8, 0.65, 0.5};
// Free-form prompts: GSM8K's 720 and MT-Bench's 48 (8 categories of about 6). The specialist,
// trained on them with small learning rates and few epochs (early stopping), ranks GSM8K's
// word problems; a topic with fewer than 100 prompts (every MT-Bench category) is scored by
// the general layer instead, which learns from the exam questions too (what makes a subject hard
// for the weak model carries over). T itself adds nothing measurable here.
const TopicConfig kFreeFormTopics = Topic(12, 2, 0.1, 100);
const std::array<GainConfig, 4> kFreeFormGains = {
    Gain(16, 1.0, 1e-3, 0.1, 4), Gain(16, 1.0, 1e-3, 0.04, 8), Gain(16, 1.0, 1e-2, 0.04, 8),
    Gain(16, 1.0, 1e-2, 0.1, 8)};
const std::array<GeneralConfig, 4> kFreeFormGenerals = {
    GeneralConfig{Gain(16, 1.0, 1e-3, 0.1, 4), 0.1}, GeneralConfig{Gain(16, 1.0, 1e-3, 0.1, 4), 1},
    GeneralConfig{Gain(16, 1.0, 1e-3, 0.04, 4), 0.1},
    GeneralConfig{Gain(16, 1.0, 1e-3, 0.04, 4), 1}};
constexpr std::array<double, 1> kFreeFormTopicWeights = {0};

std::string Describe(const GainConfig& g) {
  std::ostringstream s;
  s << "smoothing=" << g.smoothing << " l2=" << g.l2_sparse << " rate=" << g.learning_rate
    << " epochs=" << g.epochs;
  return s.str();
}

std::string Describe(const GainConfig& g, const GeneralConfig* general, double topic_weight) {
  std::ostringstream s;
  s << Describe(g);
  if (general != nullptr) {
    s << " general(" << Describe(general->gain) << " other_weight=" << general->other_weight << ")";
  }
  s << " topic_weight=" << topic_weight;
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
  std::vector<size_t> all;  // 0 .. train.size() - 1
};

// One regime's training rows and what to choose from.
struct RegimeRows {
  const char* name;
  std::vector<size_t> rows;
  detail::Topics topics;
  Grid grid;
};

struct Choice {
  GainConfig gain;
  const GeneralConfig* general = nullptr;
  double topic_weight = 0;
};

// The general layer's row weights: 1 for the regime's rows, other_weight for the rest.
std::vector<double> GeneralWeights(const Split& s, const RegimeRows& regime, double other_weight) {
  std::vector<double> w(s.train.size(), other_weight);
  for (const size_t r : regime.rows) w[r] = 1;
  return w;
}

// Out-of-fold R of the regime's rows for each general setting (learning from every row).
std::vector<std::vector<double>> GeneralOutOfFold(const Split& s, const RegimeRows& regime,
                                                  const FeatureSettings& f, uint64_t seed) {
  std::vector<std::vector<double>> out;
  for (const GeneralConfig& general : regime.grid.generals) {
    const auto weights = GeneralWeights(s, regime, general.other_weight);
    const auto all =
        detail::CrossValidateGain(s.train, s.encoded, s.all, general.gain, f, seed, weights);
    std::vector<double> mine;
    for (const size_t r : regime.rows) mine.push_back(all[r]);
    out.push_back(std::move(mine));
  }
  return out;
}

Candidate Evaluate(const Split& s, const RegimeRows& regime,
                   std::span<const detail::TopicParts> topics, std::span<const double> specialist,
                   const std::vector<double>* general, double topic_weight) {
  std::vector<double> oof(regime.rows.size());
  for (size_t i = 0; i < oof.size(); ++i) {
    const double a = general == nullptr ? 1.0 : topics[i].specialist_share;
    const double gain = a * specialist[i] + (general == nullptr ? 0.0 : (1 - a) * (*general)[i]);
    oof[i] = detail::Combine({false, gain, topics[i].topic, topic_weight});
  }
  Candidate c;
  c.regime = regime.name;
  c.sources = detail::ScoreBySource(s.train, regime.rows, oof);
  c.criterion = detail::Criterion(c.sources);
  return c;
}

// The regime's setting, by cross-validation: out-of-fold T and specialist share, and R per gain
// and general setting, combined at every topic weight.
Choice Select(const Split& s, const RegimeRows& regime, const FeatureSettings& f, uint64_t seed,
              std::vector<Candidate>& candidates) {
  const Grid& grid = regime.grid;
  if (regime.rows.empty()) return {grid.gains[0], nullptr, grid.topic_weights[0]};
  const auto topics = detail::CrossValidateTopics(s.train, s.encoded, regime.topics, regime.rows,
                                                  grid.topics, f, seed);
  const auto general = GeneralOutOfFold(s, regime, f, seed);
  const size_t first = candidates.size();
  std::vector<Choice> tried;
  for (const GainConfig& gain : grid.gains) {
    const auto specialist =
        detail::CrossValidateGain(s.train, s.encoded, regime.rows, gain, f, seed);
    // Each general setting, or none when the grid has none.
    for (size_t g = 0; g < std::max<size_t>(1, grid.generals.size()); ++g) {
      const GeneralConfig* with = grid.generals.empty() ? nullptr : &grid.generals[g];
      for (const double topic_weight : grid.topic_weights) {
        Candidate c = Evaluate(s, regime, topics, specialist,
                               with == nullptr ? nullptr : &general[g], topic_weight);
        c.name = Describe(gain, with, topic_weight);
        candidates.push_back(std::move(c));
        tried.push_back({gain, with, topic_weight});
      }
    }
  }
  return tried[Choose(candidates, first)];
}

detail::Regime Fit(const Split& s, const RegimeRows& regime, const Choice& choice,
                   const FeatureSettings& f, uint64_t seed) {
  detail::Regime out;
  if (regime.rows.empty()) return out;
  const detail::TopicFit topic = detail::FitTopics(s.train, s.encoded, regime.topics, regime.rows,
                                                   regime.grid.topics, f, seed);
  out.topics = ToLayer(topic.layer);
  out.topic_gains = topic.gains;
  out.specialist = topic.specialist;
  out.gain = ToLayer(detail::FitGain(s.train, s.encoded, regime.rows, choice.gain, f, seed));
  if (choice.general != nullptr) {
    const auto weights = GeneralWeights(s, regime, choice.general->other_weight);
    out.general =
        ToLayer(detail::FitGain(s.train, s.encoded, s.all, choice.general->gain, f, seed, weights));
  }
  out.topic_weight = choice.topic_weight;
  return out;
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
  for (size_t i = 0; i < s.train.size(); ++i) s.all.push_back(i);
  RegimeRows exams{"options", {}, {}, {kOptionsTopics, kOptionsGains, {}, kOptionsTopicWeights}};
  RegimeRows free_form{"free-form",
                       {},
                       {},
                       {kFreeFormTopics, kFreeFormGains, kFreeFormGenerals, kFreeFormTopicWeights}};
  for (size_t i = 0; i < s.train.size(); ++i) {
    (detail::HasOptions(s.encoded[i]) ? exams : free_form).rows.push_back(i);
  }
  detail::ModelData model;
  for (auto [regime, out] : {std::pair{&exams, &model.options}, {&free_form, &model.free_form}}) {
    regime->topics = detail::TopicsOf(s.train, regime->rows);
    const Choice choice = Select(s, *regime, f, options.seed, result.candidates);
    *out = Fit(s, *regime, choice, f, options.seed);
  }

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
  std::vector<double> scores;
  scores.reserve(s.train.size());
  for (const Example& e : s.train) {
    scores.push_back(detail::ScoreWith(model, core::SingleUserPrompt(e.text), e.task_type));
  }
  model.calibration = detail::CalibrationOf(std::move(scores));
  result.model_bytes = detail::Serialize(model);
  return result;
}

}  // namespace sy::router
