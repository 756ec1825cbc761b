// sy_routing_train: fits the task-type model (src/routing/model_internal.h) on labelled requests
// and writes its weights as a generated source file, src/routing/model_weights.inc.
//
// Input: the JSON Lines records sy_routing_eval reads ({"id", "task_type", "dialect", "body"}).
// Model: multinomial logistic regression with L2, fitted by stochastic gradient descent in a
// fixed order (a seeded shuffle per epoch), in double precision, so the same files give the
// same weights byte for byte (the ctest routing_model_reproducible checks that).
//
// Usage: sy_routing_train [options] TRAIN_FILE...
//   --out FILE        write the weights file
//   --check FILE      exit 1 unless FILE is exactly what --out would write
//   --cv K            K-fold cross-validation (stratified by type) on the train files: prints
//                     the macro-F1 of each fold and overall (pooled predictions)
//   --holdout FILE    train on TRAIN_FILEs, print macro-F1 on FILE (repeatable; train data only)
//   --misses          ... and list the holdout records it gets wrong
//   --buckets N --l2 X --lr X --epochs N --cue-dropout X --cue-decision
//   --no-bigrams --no-middle --no-shared --no-cues --no-normalize --no-split-passage
//   --no-follow-up --no-follow-up-as-instruction --no-assistant
//                     hyper-parameters and feature sets (defaults: those committed, chosen by
//                     leave-one-file-out on train-c/train-d and 5-fold CV; docs/routing.md)
// Exit: 0 ok, 1 --check found a difference, 2 bad usage or unreadable input.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "routing/classify_internal.h"
#include "routing/features.h"
#include "routing/model_internal.h"
#include "tests/routing_eval/labelled.h"

namespace {

using sy::routing::kTaskTypeCount;
using sy::routing::TaskType;
using sy::routing::detail::FeatureVector;
using sy::routing::detail::kDenseCount;
using sy::routing::detail::ModelConfig;
using sy::routing_eval::LabelledRequest;
using sy::routing_eval::LastUserText;
using sy::routing_eval::ReadLabelledFile;

struct Hyper {
  ModelConfig features{.buckets = 8192,
                       .bigrams = true,
                       .middle = true,
                       .shared = true,
                       .cue_scores = true,
                       .cue_decision = false,
                       .split_passage = true,
                       .follow_up = true,
                       .follow_up_as_instruction = true,
                       .assistant = true,
                       .normalize = true};
  double l2 = 1e-4;
  double lr = 0.2;
  int epochs = 30;
  uint64_t seed = 20261202;
  // The chance that a step sees an example without its cue scores: the cue tables were tuned on
  // train-a/b, where they look more reliable than on new text; dropping them at random makes
  // the words carry weight too (leave-one-file-out macro-F1 +0.01).
  double cue_dropout = 0.5;
};

struct Options {
  std::vector<std::string> train, holdout;
  std::string out, check;
  int folds = 0;
  bool misses = false;  // list the misclassified holdout records
  Hyper hyper;
};

// One labelled request and what Classify computes from it before the model runs.
struct Record {
  std::unique_ptr<LabelledRequest> in;
  sy::routing::detail::Evidence ev;
  TaskType cue = TaskType::kChat;
  sy::routing::Features facts;
};

struct Example {
  std::vector<uint32_t> sparse;
  double sparse_value = 1.0;
  std::array<float, kDenseCount> dense{};
  size_t label = 0;
  bool may_act = false;
};

bool Load(const std::string& path, std::vector<std::unique_ptr<Record>>& out) {
  return ReadLabelledFile(path, "sy_routing_train", [&](std::unique_ptr<LabelledRequest> in) {
    auto r = std::make_unique<Record>();
    r->in = std::move(in);
    // The facts and evidence exactly as Classify computes them before the model runs.
    const sy::core::Prompt& prompt = r->in->prompt;
    r->facts = sy::routing::Classify(prompt, TaskType::kChat);
    sy::routing::detail::GatherEvidence(prompt, r->ev);
    r->cue = sy::routing::detail::DecideType(prompt, r->facts.context, r->facts.code, r->ev);
    out.push_back(std::move(r));
  });
}

Example MakeExample(const Record& r, const ModelConfig& config) {
  auto x = std::make_unique<FeatureVector>();
  sy::routing::detail::ExtractModelFeatures(r.in->prompt, r.ev, r.cue, r.facts, config, *x);
  Example e;
  e.sparse.assign(x->sparse.begin(),
                  x->sparse.begin() + static_cast<std::ptrdiff_t>(x->sparse_count));
  e.dense = x->dense;
  e.sparse_value = x->sparse_value;
  e.label = static_cast<size_t>(r.in->label);
  e.may_act = sy::routing::detail::MayAct(r.in->prompt);
  return e;
}

// Weights as rows [buckets + dense][type]; w = scale * v (L2 decay touches only `scale`).
class Model {
 public:
  explicit Model(uint32_t buckets)
      : buckets_(buckets), v_((buckets + kDenseCount) * kTaskTypeCount, 0.0) {}

  std::array<double, kTaskTypeCount> Scores(const Example& e) const {
    std::array<double, kTaskTypeCount> z{};
    for (uint32_t j : e.sparse) Accumulate(z, j, e.sparse_value);
    for (size_t k = 0; k < kDenseCount; ++k) {
      if (e.dense[k] != 0.0f) Accumulate(z, buckets_ + k, e.dense[k]);
    }
    for (double& s : z) s *= scale_;
    if (!e.may_act) z[static_cast<size_t>(TaskType::kAgentic)] = -1e300;
    return z;
  }

  size_t Predict(const Example& e) const {
    const auto z = Scores(e);
    return static_cast<size_t>(std::max_element(z.begin(), z.end()) - z.begin());
  }

  // One SGD step on `e` with learning rate `lr` and L2 strength `l2`.
  void Step(const Example& e, double lr, double l2) {
    auto z = Scores(e);
    const double top = *std::max_element(z.begin(), z.end());
    double sum = 0;
    for (double& s : z) sum += (s = std::exp(s - top));
    scale_ *= 1.0 - lr * l2;
    std::array<double, kTaskTypeCount> g{};  // -lr * dLoss/dz / scale
    for (size_t t = 0; t < kTaskTypeCount; ++t) {
      g[t] = -lr * (z[t] / sum - (t == e.label ? 1.0 : 0.0)) / scale_;
    }
    for (uint32_t j : e.sparse) Update(g, j, e.sparse_value);
    for (size_t k = 0; k < kDenseCount; ++k) {
      if (e.dense[k] != 0.0f) Update(g, buckets_ + k, e.dense[k]);
    }
    if (scale_ < 1e-6) Rescale();
  }

  std::vector<double> Weights() const {
    std::vector<double> w(v_);
    for (double& x : w) x *= scale_;
    return w;
  }

 private:
  void Accumulate(std::array<double, kTaskTypeCount>& z, size_t row, double x) const {
    const double* r = &v_[row * kTaskTypeCount];
    for (size_t t = 0; t < kTaskTypeCount; ++t) z[t] += x * r[t];
  }
  void Update(const std::array<double, kTaskTypeCount>& g, size_t row, double x = 1.0) {
    double* r = &v_[row * kTaskTypeCount];
    for (size_t t = 0; t < kTaskTypeCount; ++t) r[t] += x * g[t];
  }
  void Rescale() {
    for (double& x : v_) x *= scale_;
    scale_ = 1.0;
  }

  size_t buckets_;
  std::vector<double> v_;
  double scale_ = 1.0;
};

uint64_t SplitMix(uint64_t& state) {
  uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

Model Train(const std::vector<const Example*>& data, const Hyper& h) {
  Model m(h.features.buckets);
  std::vector<size_t> order(data.size());
  uint64_t rng = h.seed;
  double t = 0;
  for (int epoch = 0; epoch < h.epochs; ++epoch) {
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    for (size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[SplitMix(rng) % i]);
    for (size_t i : order) {
      const double lr = h.lr / (1.0 + h.lr * h.l2 * t);
      if (h.cue_dropout > 0 &&
          static_cast<double>(SplitMix(rng) % 1000000) < h.cue_dropout * 1000000) {
        Example without = *data[i];
        for (size_t k = 1; k <= kTaskTypeCount; ++k) without.dense[k] = 0;  // kCueScores
        m.Step(without, lr, h.l2);
      } else {
        m.Step(*data[i], lr, h.l2);
      }
      t += 1;
    }
  }
  return m;
}

using Confusion = std::array<std::array<int, kTaskTypeCount>, kTaskTypeCount>;

double MacroF1(const Confusion& c) {
  double sum = 0;
  int types = 0;
  for (size_t k = 0; k < kTaskTypeCount; ++k) {
    int support = 0, predicted = 0;
    for (size_t j = 0; j < kTaskTypeCount; ++j) {
      support += c[k][j];
      predicted += c[j][k];
    }
    if (support == 0) continue;
    const double p = predicted ? 1.0 * c[k][k] / predicted : 0;
    const double r = 1.0 * c[k][k] / support;
    sum += p + r > 0 ? 2 * p * r / (p + r) : 0;
    ++types;
  }
  return types ? sum / types : 0;
}

void Tally(const Model& m, const std::vector<const Example*>& data, Confusion& c) {
  for (const Example* e : data) ++c[e->label][m.Predict(*e)];
}

void PrintTable(const Confusion& c) {
  std::printf("| type | n | P | R | F1 |\n|---|---:|---:|---:|---:|\n");
  for (size_t k = 0; k < kTaskTypeCount; ++k) {
    int support = 0, predicted = 0;
    for (size_t j = 0; j < kTaskTypeCount; ++j) {
      support += c[k][j];
      predicted += c[j][k];
    }
    if (support == 0) continue;
    const double p = predicted ? 1.0 * c[k][k] / predicted : 0;
    const double r = 1.0 * c[k][k] / support;
    std::printf("| %s | %d | %.3f | %.3f | %.3f |\n",
                std::string(sy::routing::kTaskTypeNames[k]).c_str(), support, p, r,
                p + r > 0 ? 2 * p * r / (p + r) : 0);
  }
}

void CrossValidate(const std::vector<Example>& all, const Hyper& h, int folds) {
  std::vector<int> fold(all.size());
  std::array<int, kTaskTypeCount> seen{};
  for (size_t i = 0; i < all.size(); ++i) fold[i] = seen[all[i].label]++ % folds;
  Confusion pooled{};
  double fold_sum = 0;
  for (int f = 0; f < folds; ++f) {
    std::vector<const Example*> train, test;
    for (size_t i = 0; i < all.size(); ++i) (fold[i] == f ? test : train).push_back(&all[i]);
    const Model m = Train(train, h);
    Confusion c{};
    Tally(m, test, c);
    Tally(m, test, pooled);
    fold_sum += MacroF1(c);
    std::printf("fold %d: macro-F1 %.3f (%zu records)\n", f, MacroF1(c), test.size());
  }
  PrintTable(pooled);
  std::printf("CV %d-fold: mean fold macro-F1 %.3f, pooled macro-F1 %.3f\n", folds,
              fold_sum / folds, MacroF1(pooled));
}

std::string BaseName(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::string Render(const Model& m, const Options& opt, size_t records) {
  const Hyper& h = opt.hyper;
  const std::vector<double> w = m.Weights();
  double max_abs = 0;
  for (double x : w) max_abs = std::max(max_abs, std::fabs(x));
  const double scale = max_abs > 0 ? max_abs / 32767.0 : 1.0;
  std::ostringstream o;
  o << "// GENERATED by sy_routing_train (tests/routing_eval/routing_train.cpp). Do not edit: the\n"
       "// ctest routing_model_reproducible fails unless this file is exactly what the trainer\n"
       "// writes. Regenerate after changing the features or the training data, with\n"
       "//   build-asan/tests/sy_routing_train --out src/routing/model_weights.inc FILES\n"
       "// where FILES are, in this order (tests/CMakeLists.txt lists the same):\n";
  for (const auto& f : opt.train) o << "//   tests/data/routing/" << BaseName(f) << "\n";
  o << "// Trained on " << records << " requests: softmax regression, L2 " << h.l2
    << ", learning rate " << h.lr << ",\n// cue dropout " << h.cue_dropout << ", " << h.epochs
    << " epochs, seed " << h.seed << ". Rows: " << h.features.buckets << " hash buckets, then "
    << kDenseCount
    << " dense features\n// (model.cpp); columns: the twelve task types in TaskType order. "
       "Weight = value x kWeightScale.\n";
  const auto b = [](bool x) { return x ? "true" : "false"; };
  o << "inline constexpr ModelConfig kModelConfig{\n    .buckets = " << h.features.buckets
    << ", .bigrams = " << b(h.features.bigrams) << ", .middle = " << b(h.features.middle)
    << ", .shared = " << b(h.features.shared) << ",\n    .cue_scores = " << b(h.features.cue_scores)
    << ", .cue_decision = " << b(h.features.cue_decision)
    << ",\n    .split_passage = " << b(h.features.split_passage)
    << ", .follow_up = " << b(h.features.follow_up)
    << ",\n    .follow_up_as_instruction = " << b(h.features.follow_up_as_instruction)
    << ", .assistant = " << b(h.features.assistant) << ", .normalize = " << b(h.features.normalize)
    << "};\n";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.9g", scale);
  o << "inline constexpr float kWeightScale = " << buf << "f;\n";
  o << "inline constexpr int16_t kWeights[" << h.features.buckets
    << " + kDenseCount][kTaskTypeCount] = {\n";
  for (size_t row = 0; row < w.size() / kTaskTypeCount; ++row) {
    o << "{";
    for (size_t t = 0; t < kTaskTypeCount; ++t) {
      o << (t ? "," : "") << std::lround(w[row * kTaskTypeCount + t] / scale);
    }
    o << "},\n";
  }
  o << "};\n";
  return o.str();
}

bool ParseArgs(int argc, char** argv, Options& opt) {
  auto& h = opt.hyper;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const bool has_value = i + 1 < argc;
    if (a == "--out" && has_value) {
      opt.out = argv[++i];
    } else if (a == "--check" && has_value) {
      opt.check = argv[++i];
    } else if (a == "--holdout" && has_value) {
      opt.holdout.push_back(argv[++i]);
    } else if (a == "--cv" && has_value) {
      opt.folds = std::atoi(argv[++i]);
    } else if (a == "--buckets" && has_value) {
      h.features.buckets = static_cast<uint32_t>(std::atoi(argv[++i]));
    } else if (a == "--l2" && has_value) {
      h.l2 = std::atof(argv[++i]);
    } else if (a == "--lr" && has_value) {
      h.lr = std::atof(argv[++i]);
    } else if (a == "--epochs" && has_value) {
      h.epochs = std::atoi(argv[++i]);
    } else if (a == "--no-bigrams") {
      h.features.bigrams = false;
    } else if (a == "--no-middle") {
      h.features.middle = false;
    } else if (a == "--no-shared") {
      h.features.shared = false;
    } else if (a == "--no-cues") {
      h.features.cue_scores = false;
    } else if (a == "--misses") {
      opt.misses = true;
    } else if (a == "--cue-dropout" && has_value) {
      h.cue_dropout = std::atof(argv[++i]);
    } else if (a == "--no-follow-up-as-instruction") {
      h.features.follow_up_as_instruction = false;
    } else if (a == "--no-assistant") {
      h.features.assistant = false;
    } else if (a == "--follow-up") {
      h.features.follow_up = true;
    } else if (a == "--no-follow-up") {
      h.features.follow_up = false;
    } else if (a == "--split-passage") {
      h.features.split_passage = true;
    } else if (a == "--no-split-passage") {
      h.features.split_passage = false;
    } else if (a == "--no-normalize") {
      h.features.normalize = false;
    } else if (a == "--cue-decision") {
      h.features.cue_decision = true;
    } else if (a.starts_with("--")) {
      return false;
    } else {
      opt.train.push_back(a);
    }
  }
  const uint32_t n = h.features.buckets;
  return !opt.train.empty() && n >= 64 && n <= sy::routing::detail::kMaxBuckets &&
         (n & (n - 1)) == 0 && h.epochs > 0 && opt.folds >= 0 && opt.folds != 1;
}

std::vector<Example> Examples(const std::vector<std::unique_ptr<Record>>& records,
                              const ModelConfig& config) {
  std::vector<Example> out;
  out.reserve(records.size());
  for (const auto& r : records) out.push_back(MakeExample(*r, config));
  return out;
}

std::vector<const Example*> Pointers(const std::vector<Example>& v) {
  std::vector<const Example*> out;
  for (const auto& e : v) out.push_back(&e);
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  Options opt;
  if (!ParseArgs(argc, argv, opt)) {
    std::cerr << "usage: sy_routing_train [--out FILE] [--check FILE] [--cv K] [--holdout FILE]"
                 " [hyper-parameters] TRAIN_FILE...\n";
    return 2;
  }
  std::vector<std::unique_ptr<Record>> records, holdout;
  for (const auto& f : opt.train) {
    if (!Load(f, records)) return 2;
  }
  for (const auto& f : opt.holdout) {
    if (!Load(f, holdout)) return 2;
  }
  const std::vector<Example> examples = Examples(records, opt.hyper.features);
  if (opt.folds > 1) CrossValidate(examples, opt.hyper, opt.folds);
  if (opt.holdout.empty() && opt.out.empty() && opt.check.empty()) return 0;
  const Model model = Train(Pointers(examples), opt.hyper);
  if (!holdout.empty()) {
    const std::vector<Example> held = Examples(holdout, opt.hyper.features);
    Confusion c{};
    Tally(model, Pointers(held), c);
    PrintTable(c);
    if (opt.misses) {
      for (size_t i = 0; i < held.size(); ++i) {
        const size_t got = model.Predict(held[i]);
        if (got == held[i].label) continue;
        const std::string last = LastUserText(holdout[i]->in->prompt);
        std::printf("- %s %s -> %s (cue %s): %s\n", holdout[i]->in->id.c_str(),
                    std::string(sy::routing::kTaskTypeNames[held[i].label]).c_str(),
                    std::string(sy::routing::kTaskTypeNames[got]).c_str(),
                    std::string(sy::routing::TaskTypeName(holdout[i]->cue)).c_str(), last.c_str());
      }
    }
    Confusion cue{};
    for (const auto& r : holdout)
      ++cue[static_cast<size_t>(r->in->label)][static_cast<size_t>(r->cue)];
    std::printf("holdout: macro-F1 %.3f (%zu records); the cue scorer alone: %.3f\n", MacroF1(c),
                holdout.size(), MacroF1(cue));
  }
  const std::string text = Render(model, opt, records.size());
  if (!opt.out.empty()) {
    std::ofstream out(opt.out, std::ios::binary);
    out << text;
    if (!out) {
      std::cerr << "sy_routing_train: cannot write " << opt.out << "\n";
      return 2;
    }
  }
  if (!opt.check.empty()) {
    std::ifstream in(opt.check, std::ios::binary);
    std::ostringstream committed;
    committed << in.rdbuf();
    if (committed.str() != text) {
      std::cerr << "sy_routing_train: " << opt.check
                << " differs from what the trainer writes: retrain (see its header)\n";
      return 1;
    }
  }
  return 0;
}
