#include "router/detail/learner.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <string>

#include "router/detail/hash.h"
#include "router/metrics.h"

namespace sy::router::detail {
namespace {

constexpr size_t kFolds = 5;
constexpr double kAdagradEpsilon = 1e-8;
constexpr size_t kBiasSlot = 0;

using SparseList = std::vector<std::pair<uint32_t, float>>;

// Sorts by bucket and sums duplicates.
SparseList Merge(std::vector<std::pair<uint32_t, double>> values) {
  std::sort(values.begin(), values.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  SparseList merged;
  for (size_t i = 0; i < values.size();) {
    double sum = 0;
    size_t j = i;
    for (; j < values.size() && values[j].first == values[i].first; ++j) sum += values[j].second;
    merged.push_back({values[i].first, static_cast<float>(sum)});
    i = j;
  }
  return merged;
}

// Collects the visitor's occurrences, normalised per kind as the scorer does (model_file.cpp).
class Collector final : public SparseVisitor {
 public:
  void Add(std::span<const SparseHit> hits) override {
    for (const SparseHit& hit : hits) {
      const auto k = static_cast<size_t>(hit.kind);
      total_[k] += hit.weight;
      seen_.push_back({hit.bucket, k, hit.weight});
    }
  }
  void Finish(Encoded& out) const {
    std::vector<std::pair<uint32_t, double>> all;
    std::vector<std::pair<uint32_t, double>> unigrams;
    for (const Seen& s : seen_) {
      const double v = static_cast<double>(s.weight) / std::sqrt(total_[s.kind]);
      all.push_back({s.bucket, v});
      if (s.kind == static_cast<size_t>(SparseKind::kUnigram)) {
        unigrams.push_back({s.bucket, v});
      }
    }
    out.sparse = Merge(std::move(all));
    out.unigrams = Merge(std::move(unigrams));
  }

 private:
  struct Seen {
    uint32_t bucket;
    size_t kind;
    float weight;
  };
  std::array<double, kSparseKinds> total_{};
  std::vector<Seen> seen_;
};

double Sigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }

// Dense features are standardised while learning (a log length near 6 is nearly collinear with
// the bias, and AdaGrad crawls along it): each slot but the bias (slot 0) centred and scaled
// over the rows. FoldScaling turns the weights back into raw-feature ones.
struct DenseScaling {
  std::array<double, kDenseCount> mean{};
  std::array<double, kDenseCount> scale{};
};

DenseScaling ScalingOf(std::span<const Encoded> encoded, std::span<const size_t> rows) {
  DenseScaling sc;
  std::array<double, kDenseCount> n{};
  std::array<double, kDenseCount> sum{};
  std::array<double, kDenseCount> sum2{};
  for (const size_t r : rows) {
    const auto& x = encoded[r].dense;
    for (size_t j = 0; j < kDenseCount; ++j) {
      n[j] += 1;
      sum[j] += x[j];
      sum2[j] += static_cast<double>(x[j]) * x[j];
    }
  }
  for (size_t j = 0; j < kDenseCount; ++j) {
    sc.scale[j] = 1.0;
    if (j == kBiasSlot || n[j] == 0) continue;
    sc.mean[j] = sum[j] / n[j];
    const double var = sum2[j] / n[j] - sc.mean[j] * sc.mean[j];
    if (var > 1e-12) sc.scale[j] = std::sqrt(var);
  }
  return sc;
}

std::array<float, kDenseCount> Standardised(const std::array<float, kDenseCount>& x,
                                            const DenseScaling& sc) {
  std::array<float, kDenseCount> out{};
  for (size_t j = 0; j < kDenseCount; ++j) {
    out[j] = j == kBiasSlot ? x[j] : static_cast<float>((x[j] - sc.mean[j]) / sc.scale[j]);
  }
  return out;
}

void FoldScaling(const DenseScaling& sc, LinearFit& fit) {
  const size_t outputs = fit.outputs;
  for (size_t j = 0; j < kDenseCount; ++j) {
    if (j == kBiasSlot) continue;
    for (size_t o = 0; o < outputs; ++o) {
      const double w = fit.dense[j * outputs + o] / sc.scale[j];
      fit.dense[j * outputs + o] = w;
      fit.dense[kBiasSlot * outputs + o] -= w * sc.mean[j];
    }
  }
}

// Which sparse list a layer reads, and at what resolution.
struct SparseView {
  bool unigrams = false;  // Encoded::unigrams, else Encoded::sparse
  uint32_t shift = 0;     // bucket >> shift
  const SparseList& Of(const Encoded& x) const { return unigrams ? x.unigrams : x.sparse; }
};

void Forward(const LinearFit& fit, const SparseList& sparse, uint32_t shift,
             const std::array<float, kDenseCount>& dense, std::vector<double>& z) {
  const size_t outputs = fit.outputs;
  z.assign(outputs, 0.0);
  for (const auto& [bucket, value] : sparse) {
    const double* w = fit.sparse.data() + size_t{bucket >> shift} * outputs;
    for (size_t o = 0; o < outputs; ++o) z[o] += w[o] * value;
  }
  for (size_t j = 0; j < kDenseCount; ++j) {
    if (dense[j] == 0.0f) continue;
    for (size_t o = 0; o < outputs; ++o) z[o] += fit.dense[j * outputs + o] * dense[j];
  }
}

struct Rates {
  double l2_sparse = 0;
  double l2_dense = 0;
  double learning_rate = 0;
  int epochs = 0;
};

// AdaGrad with per-touch L2 over rows in a seeded Fisher-Yates order. gradient(row, z, g) sets
// g to d loss / d z for the layer's outputs z on that row.
template <typename Gradient>
LinearFit TrainLinear(std::span<const Encoded> encoded, std::span<const size_t> rows,
                      const SparseView& view, uint32_t outputs, uint32_t bucket_bits,
                      const Rates& rates, uint64_t seed, Gradient&& gradient) {
  LinearFit fit;
  fit.outputs = outputs;
  fit.bucket_bits = bucket_bits;
  fit.dense.assign(kDenseCount * outputs, 0.0);
  fit.sparse.assign((size_t{1} << bucket_bits) * outputs, 0.0);
  std::vector<double> dense_g2(fit.dense.size(), 0.0);
  std::vector<double> sparse_g2(fit.sparse.size(), 0.0);
  const DenseScaling scaling = ScalingOf(encoded, rows);
  std::vector<std::array<float, kDenseCount>> dense(encoded.size());
  for (const size_t r : rows) dense[r] = Standardised(encoded[r].dense, scaling);
  const auto step = [&](double& w, double& g2, double g) {
    g2 += g * g;
    w -= rates.learning_rate * g / std::sqrt(g2 + kAdagradEpsilon);
  };
  std::vector<size_t> order(rows.begin(), rows.end());
  std::mt19937_64 rng(seed);
  std::vector<double> z;
  std::vector<double> g(outputs);
  for (int epoch = 0; epoch < rates.epochs; ++epoch) {
    Shuffle(order, rng);
    for (const size_t r : order) {
      const SparseList& sparse = view.Of(encoded[r]);
      const auto& x = dense[r];
      Forward(fit, sparse, view.shift, x, z);
      gradient(r, z, g);
      for (const auto& [bucket, value] : sparse) {
        const size_t base = size_t{bucket >> view.shift} * outputs;
        for (size_t o = 0; o < outputs; ++o) {
          double& w = fit.sparse[base + o];
          step(w, sparse_g2[base + o], g[o] * value + rates.l2_sparse * w);
        }
      }
      for (size_t j = 0; j < kDenseCount; ++j) {
        if (x[j] == 0.0f) continue;
        for (size_t o = 0; o < outputs; ++o) {
          double& w = fit.dense[j * outputs + o];
          step(w, dense_g2[j * outputs + o], g[o] * x[j] + rates.l2_dense * w);
        }
      }
    }
  }
  FoldScaling(scaling, fit);
  return fit;
}

// The gain heads' labels, 1 - weak and 1 - strong, shrunk towards their topic's mean.
std::vector<std::array<double, kGainHeads>> GainLabels(std::span<const Example> examples,
                                                       std::span<const size_t> rows,
                                                       const GainConfig& config) {
  struct Sum {
    std::array<double, kGainHeads> y{};
    double n = 0;
  };
  const auto raw = [](const Example& e) {
    return std::array<double, kGainHeads>{1.0 - e.weak, 1.0 - e.strong};
  };
  std::map<std::string, Sum> by_source;
  std::map<std::string, Sum> by_topic;
  const auto topic_key = [](const Example& e) { return e.source + '\x1f' + e.topic; };
  for (const size_t r : rows) {
    const auto y = raw(examples[r]);
    for (Sum* s : {&by_source[examples[r].source], &by_topic[topic_key(examples[r])]}) {
      for (size_t h = 0; h < kGainHeads; ++h) s->y[h] += y[h];
      s->n += 1;
    }
  }
  std::vector<std::array<double, kGainHeads>> labels(examples.size());
  for (const size_t r : rows) {
    const Example& e = examples[r];
    const auto y = raw(e);
    const Sum& src = by_source[e.source];
    const Sum& topic = by_topic[topic_key(e)];
    for (size_t h = 0; h < kGainHeads; ++h) {
      const double prior = src.y[h] / src.n;
      const double mean =
          (topic.y[h] + config.topic_prior * prior) / (topic.n + config.topic_prior);
      labels[r][h] = config.smoothing * y[h] + (1 - config.smoothing) * mean;
    }
  }
  return labels;
}

// Each topic's mean strong - weak over rows, shrunk towards its source's mean.
std::vector<double> TopicGains(std::span<const Example> examples, const Topics& topics,
                               std::span<const size_t> rows, double prior) {
  std::map<std::string, std::pair<double, double>> by_source;
  std::vector<double> sum(topics.names.size(), 0.0);
  std::vector<double> n(topics.names.size(), 0.0);
  std::vector<std::string> source_of(topics.names.size());
  for (const size_t r : rows) {
    const Example& e = examples[r];
    if (topics.topic_of[r] == kNoTopic) continue;
    const double gain = e.strong - e.weak;
    auto& s = by_source[e.source];
    s.first += gain;
    s.second += 1;
    sum[topics.topic_of[r]] += gain;
    n[topics.topic_of[r]] += 1;
    source_of[topics.topic_of[r]] = e.source;
  }
  double all = 0;
  double count = 0;
  for (const auto& [source, s] : by_source) {
    all += s.first;
    count += s.second;
  }
  std::vector<double> gains(topics.names.size());
  for (size_t t = 0; t < gains.size(); ++t) {
    // A topic no row has (a fold without it) falls back on the mean of every row.
    const auto it = by_source.find(source_of[t]);
    const double mean = n[t] > 0 && it != by_source.end() ? it->second.first / it->second.second
                                                          : (count > 0 ? all / count : 0.0);
    gains[t] = (sum[t] + prior * mean) / (n[t] + prior);
  }
  return gains;
}

std::vector<size_t> OtherFolds(std::span<const Example> examples, std::span<const size_t> rows,
                               size_t fold) {
  std::vector<size_t> out;
  for (const size_t r : rows) {
    if (FoldOf(examples[r].id) != fold) out.push_back(r);
  }
  return out;
}

}  // namespace

std::vector<Encoded> Encode(std::span<const Example> examples, const FeatureSettings& settings) {
  std::vector<Encoded> out(examples.size());
  for (size_t i = 0; i < examples.size(); ++i) {
    const core::Prompt prompt = core::SingleUserPrompt(examples[i].text);
    Collector collector;
    VisitSparse(prompt, settings, collector);
    collector.Finish(out[i]);
    ComputeDense(prompt, examples[i].task_type, settings, out[i].dense);
  }
  return out;
}

bool HasOptions(const Encoded& x) { return x.dense[kOptionsSlot] != 0.0f; }

Topics TopicsOf(std::span<const Example> examples, std::span<const size_t> rows) {
  Topics t;
  std::map<std::string, uint32_t> index;
  const auto key = [](const Example& e) { return e.source + '\x1f' + e.topic; };
  for (const size_t r : rows) index.emplace(key(examples[r]), 0);
  for (auto& [name, i] : index) {
    i = static_cast<uint32_t>(t.names.size());
    t.names.push_back(name);
  }
  t.topic_of.assign(examples.size(), kNoTopic);
  for (const size_t r : rows) t.topic_of[r] = index[key(examples[r])];
  return t;
}

void Shuffle(std::vector<size_t>& order, std::mt19937_64& rng) {
  for (size_t i = order.size(); i > 1; --i) {
    const auto j = static_cast<size_t>(rng() % i);
    std::swap(order[i - 1], order[j]);
  }
}

LinearFit FitGain(std::span<const Example> examples, std::span<const Encoded> encoded,
                  std::span<const size_t> rows, const GainConfig& config,
                  const FeatureSettings& settings, uint64_t seed, std::span<const double> weights) {
  const auto labels = GainLabels(examples, rows, config);
  const Rates rates{config.l2_sparse, config.l2_dense, config.learning_rate, config.epochs};
  const SparseView view{false, settings.bucket_bits - config.bucket_bits};
  return TrainLinear(encoded, rows, view, kGainHeads, config.bucket_bits, rates, seed,
                     [&](size_t r, const std::vector<double>& z, std::vector<double>& g) {
                       const double w = weights.empty() ? 1.0 : weights[r];
                       for (size_t h = 0; h < kGainHeads; ++h) {
                         g[h] = w * (Sigmoid(z[h]) - labels[r][h]);
                       }
                     });
}

TopicFit FitTopics(std::span<const Example> examples, std::span<const Encoded> encoded,
                   const Topics& topics, std::span<const size_t> rows, const TopicConfig& config,
                   const FeatureSettings& settings, uint64_t seed) {
  const auto count = static_cast<uint32_t>(topics.names.size());
  const Rates rates{config.l2_sparse, config.l2_dense, config.learning_rate, config.epochs};
  const SparseView view{true, settings.bucket_bits - config.bucket_bits};
  std::vector<size_t> with_topic;
  for (const size_t r : rows) {
    if (topics.topic_of[r] != kNoTopic) with_topic.push_back(r);
  }
  TopicFit fit;
  if (count == 0) return fit;
  fit.layer = TrainLinear(encoded, with_topic, view, count, config.bucket_bits, rates, seed,
                          [&](size_t r, const std::vector<double>& z, std::vector<double>& g) {
                            const double top = *std::max_element(z.begin(), z.end());
                            double total = 0;
                            for (size_t o = 0; o < count; ++o) total += g[o] = std::exp(z[o] - top);
                            for (size_t o = 0; o < count; ++o) g[o] /= total;
                            g[topics.topic_of[r]] -= 1.0;
                          });
  fit.gains = TopicGains(examples, topics, rows, config.gain_prior);
  std::vector<double> rows_of(count, 0.0);
  for (const size_t r : with_topic) rows_of[topics.topic_of[r]] += 1;
  for (const double n : rows_of) fit.specialist.push_back(n >= config.specialist_min_rows ? 1 : 0);
  return fit;
}

double PredictGain(const LinearFit& gain, const Encoded& x, const FeatureSettings& settings) {
  std::vector<double> z;
  Forward(gain, x.sparse, settings.bucket_bits - gain.bucket_bits, x.dense, z);
  return GainOf(z[0], z[1]);
}

TopicParts PredictTopic(const TopicFit& topics, const Encoded& x, const FeatureSettings& settings) {
  if (topics.layer.outputs == 0) return {};
  std::vector<double> p;
  Forward(topics.layer, x.unigrams, settings.bucket_bits - topics.layer.bucket_bits, x.dense, p);
  Softmax(p);
  return {Expect(p, topics.gains), Expect(p, topics.specialist)};
}

size_t FoldOf(std::string_view id) {
  // The validation split takes hash % 5 == 0; the folds use the next base-5 digit of the hash,
  // so they are independent of it.
  return static_cast<size_t>((Fnv1a64(id) / 5) % kFolds);
}

std::vector<double> CrossValidateGain(std::span<const Example> examples,
                                      std::span<const Encoded> encoded,
                                      std::span<const size_t> rows, const GainConfig& config,
                                      const FeatureSettings& settings, uint64_t seed,
                                      std::span<const double> weights) {
  std::vector<double> scores(rows.size(), 0.0);
  for (size_t fold = 0; fold < kFolds; ++fold) {
    const auto fit_rows = OtherFolds(examples, rows, fold);
    const LinearFit f =
        FitGain(examples, encoded, fit_rows, config, settings, seed + fold, weights);
    for (size_t i = 0; i < rows.size(); ++i) {
      if (FoldOf(examples[rows[i]].id) == fold) {
        scores[i] = PredictGain(f, encoded[rows[i]], settings);
      }
    }
  }
  return scores;
}

std::vector<TopicParts> CrossValidateTopics(std::span<const Example> examples,
                                            std::span<const Encoded> encoded, const Topics& topics,
                                            std::span<const size_t> rows, const TopicConfig& config,
                                            const FeatureSettings& settings, uint64_t seed) {
  std::vector<TopicParts> parts(rows.size());
  for (size_t fold = 0; fold < kFolds; ++fold) {
    const auto fit_rows = OtherFolds(examples, rows, fold);
    const TopicFit f =
        FitTopics(examples, encoded, topics, fit_rows, config, settings, seed + fold);
    for (size_t i = 0; i < rows.size(); ++i) {
      if (FoldOf(examples[rows[i]].id) == fold) {
        parts[i] = PredictTopic(f, encoded[rows[i]], settings);
      }
    }
  }
  return parts;
}

std::vector<FoldScore> ScoreBySource(std::span<const Example> examples,
                                     std::span<const size_t> rows, std::span<const double> scores) {
  std::vector<std::string> sources;
  for (const size_t r : rows) {
    if (std::find(sources.begin(), sources.end(), examples[r].source) == sources.end()) {
      sources.push_back(examples[r].source);
    }
  }
  std::vector<FoldScore> out;
  for (const std::string& source : sources) {
    FoldScore score{source, 0, 0, 0};
    double folds = 0;
    for (size_t fold = 0; fold < kFolds; ++fold) {
      std::vector<double> s;
      std::vector<double> strong;
      std::vector<double> weak;
      for (size_t i = 0; i < rows.size(); ++i) {
        const Example& e = examples[rows[i]];
        if (e.source != source || FoldOf(e.id) != fold) continue;
        s.push_back(scores[i]);
        strong.push_back(e.strong);
        weak.push_back(e.weak);
      }
      const RouterMetrics m = Evaluate(s, strong, weak);
      score.n += m.n;
      if (std::isnan(m.apgr)) continue;
      score.apgr += m.apgr;
      score.cpt50 += m.cpt50;
      folds += 1;
    }
    score.apgr = folds > 0 ? score.apgr / folds : std::nan("");
    score.cpt50 = folds > 0 ? score.cpt50 / folds : std::nan("");
    out.push_back(score);
  }
  return out;
}

double Criterion(std::span<const FoldScore> sources) {
  double total = 0;
  double weight = 0;
  for (const FoldScore& s : sources) {
    if (std::isnan(s.apgr)) continue;
    const double w = static_cast<double>(s.n) / (static_cast<double>(s.n) + 200.0);
    total += w * s.apgr;
    weight += w;
  }
  return weight > 0 ? total / weight : 0.0;
}

}  // namespace sy::router::detail
