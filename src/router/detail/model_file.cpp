#include "router/detail/model_file.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>

#include "router/detail/sha256.h"
#include "router/metrics.h"

namespace sy::router::detail {
namespace {

static_assert(std::endian::native == std::endian::little,
              "the model file is little-endian and read by memcpy");

class Writer {
 public:
  template <typename T>
  void Put(T value) {
    char raw[sizeof(T)];
    std::memcpy(raw, &value, sizeof(T));
    out_.append(raw, sizeof(T));
  }
  void Str(std::string_view s) {
    Put(static_cast<uint32_t>(s.size()));
    out_.append(s);
  }
  template <typename T>
  void Array(const std::vector<T>& values) {
    if (values.empty()) return;
    out_.append(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(T));
  }
  std::string& out() { return out_; }

 private:
  std::string out_;
};

// Bounds-checked reads; a failed read latches `ok() == false` and returns zeros.
class Reader {
 public:
  explicit Reader(std::string_view bytes) : in_(bytes) {}
  template <typename T>
  T Get() {
    T value{};
    if (!Take(sizeof(T))) return value;
    std::memcpy(&value, in_.data() + pos_ - sizeof(T), sizeof(T));
    return value;
  }
  std::string Str() {
    const auto n = Get<uint32_t>();
    if (!Take(n)) return {};
    return std::string(in_.substr(pos_ - n, n));
  }
  template <typename T>
  std::vector<T> Array(uint64_t count) {
    if (count > (in_.size() - pos_) / sizeof(T) || !Take(count * sizeof(T))) {
      ok_ = false;
      return {};
    }
    std::vector<T> values(count);
    // An empty vector's data() may be null, which memcpy must not see even for 0 bytes.
    if (count > 0) {
      std::memcpy(values.data(), in_.data() + pos_ - count * sizeof(T), count * sizeof(T));
    }
    return values;
  }
  bool ok() const { return ok_; }
  bool done() const { return pos_ == in_.size(); }

 private:
  bool Take(uint64_t n) {
    if (!ok_ || n > in_.size() - pos_) return ok_ = false;
    pos_ += n;
    return true;
  }
  std::string_view in_;
  size_t pos_ = 0;
  bool ok_ = true;
};

void PutLayer(const Layer& layer, Writer& w) {
  w.Put(layer.outputs);
  w.Put(layer.bucket_bits);
  w.Array(layer.dense);
  w.Array(layer.sparse);
}

void PutRegime(const Regime& regime, Writer& w) {
  PutLayer(regime.topics, w);
  for (const auto* per_topic : {&regime.topic_gains, &regime.specialist}) {
    w.Put(static_cast<uint32_t>(per_topic->size()));
    w.Array(*per_topic);
  }
  PutLayer(regime.gain, w);
  PutLayer(regime.general, w);
  w.Put(regime.topic_weight);
}

void PutBody(const ModelData& m, Writer& w) {
  const Metadata& md = m.metadata;
  w.Str(md.command);
  w.Str(md.data_sha256);
  w.Put(md.seed);
  w.Str(md.strong);
  w.Str(md.weak);
  w.Put(md.train_examples);
  w.Put(md.validation_examples);
  w.Put(md.mean_prompt_tokens);
  const FeatureSettings& f = m.features;
  w.Put(f.bucket_bits);
  for (const bool flag : {f.unigrams, f.bigrams, f.punctuation}) {
    w.Put(static_cast<uint8_t>(flag));
  }
  w.Put(f.char_min);
  w.Put(f.char_max);
  w.Put(f.max_scan_bytes);
  w.Put(f.earlier_turn_weight);
  for (const Regime* regime : {&m.options, &m.free_form}) PutRegime(*regime, w);
  w.Put(static_cast<uint32_t>(m.calibration.size()));
  w.Array(m.calibration);
}

// A layer's shape is checked before its arrays are read, so a corrupt count cannot ask for
// gigabytes.
bool GetLayer(Reader& r, uint32_t max_outputs, uint32_t max_bits, Layer& layer) {
  layer.outputs = r.Get<uint32_t>();
  layer.bucket_bits = r.Get<uint32_t>();
  if (!r.ok() || layer.outputs > max_outputs || layer.bucket_bits > max_bits) return false;
  layer.dense = r.Array<float>(uint64_t{kDenseCount} * layer.outputs);
  layer.sparse = r.Array<float>((uint64_t{1} << layer.bucket_bits) * layer.outputs);
  return r.ok();
}

template <typename T>
bool AllFinite(const std::vector<T>& v) {
  return std::all_of(v.begin(), v.end(), [](T x) { return std::isfinite(x); });
}

bool GetRegime(Reader& r, uint32_t max_bits, Regime& regime) {
  if (!GetLayer(r, kMaxTopics, max_bits, regime.topics)) return false;
  regime.topic_gains = r.Array<double>(r.Get<uint32_t>());
  regime.specialist = r.Array<double>(r.Get<uint32_t>());
  if (!GetLayer(r, kGainHeads, max_bits, regime.gain) ||
      !GetLayer(r, kGainHeads, max_bits, regime.general)) {
    return false;
  }
  regime.topic_weight = r.Get<double>();
  return r.ok();
}

bool AllWithin(const std::vector<double>& v, double low, double high) {
  return std::all_of(v.begin(), v.end(), [&](double x) { return x >= low && x <= high; });
}

// Why a parsed regime cannot score, or "" when it can.
std::string CheckRegime(const Regime& regime) {
  for (const Layer* gain : {&regime.gain, &regime.general}) {
    if (gain->outputs != 0 && gain->outputs != kGainHeads) return "a gain layer is malformed";
  }
  if (regime.topic_gains.size() != regime.topics.outputs ||
      regime.specialist.size() != regime.topics.outputs) {
    return "its topics do not match their gains";
  }
  for (const Layer* layer : {&regime.topics, &regime.gain, &regime.general}) {
    if (!AllFinite(layer->dense) || !AllFinite(layer->sparse)) return "a weight is not finite";
  }
  if (!AllWithin(regime.topic_gains, -1, 1)) return "a topic gain is outside [-1, 1]";
  if (!AllWithin(regime.specialist, 0, 1) || !(regime.topic_weight >= 0) ||
      !(regime.topic_weight <= 1)) {
    return "a weight that must be in [0, 1] is not";
  }
  return "";
}

// Parses the body; the reason it is malformed, or "" when it is not.
std::string GetBody(Reader& r, ModelData& m) {
  Metadata& md = m.metadata;
  md.command = r.Str();
  md.data_sha256 = r.Str();
  md.seed = r.Get<uint64_t>();
  md.strong = r.Str();
  md.weak = r.Str();
  md.train_examples = r.Get<int64_t>();
  md.validation_examples = r.Get<int64_t>();
  md.mean_prompt_tokens = r.Get<double>();
  FeatureSettings& f = m.features;
  f.bucket_bits = r.Get<uint32_t>();
  bool flags_ok = true;
  for (bool* flag : {&f.unigrams, &f.bigrams, &f.punctuation}) {
    const auto v = r.Get<uint8_t>();
    *flag = v != 0;
    flags_ok = flags_ok && v <= 1;
  }
  f.char_min = r.Get<uint32_t>();
  f.char_max = r.Get<uint32_t>();
  f.max_scan_bytes = r.Get<uint32_t>();
  f.earlier_turn_weight = r.Get<float>();
  if (!r.ok() || !flags_ok || !ValidSettings(f)) return "its feature settings are invalid";
  for (Regime* regime : {&m.options, &m.free_form}) {
    if (!GetRegime(r, f.bucket_bits, *regime)) return "its layers do not parse";
  }
  m.calibration = r.Array<double>(r.Get<uint32_t>());
  if (!r.ok() || !r.done()) return "its body does not parse";
  if (m.calibration.size() != kCalibrationPoints ||
      !std::is_sorted(m.calibration.begin(), m.calibration.end())) {
    return "its calibration is not " + std::to_string(kCalibrationPoints) + " ascending points";
  }
  if (!AllFinite(m.calibration)) return "it holds a non-finite or negative number where it cannot";
  for (const Regime* regime : {&m.options, &m.free_form}) {
    if (std::string bad = CheckRegime(*regime); !bad.empty()) return bad;
  }
  return "";
}

core::Error Bad(std::string_view name, const std::string& what) {
  return core::MakeError(core::Errc::kInvalidRequest,
                         "router model " + std::string(name) + ": " + what);
}

// Sums the sparse weights of a regime's layers as the feature visitor reports occurrences: the
// gain layers' per kind (each kind is normalised apart), the topic layer's over shared unigrams.
class SparseSum final : public SparseVisitor {
 public:
  static constexpr size_t kSpecialist = 0;
  static constexpr size_t kGeneral = 1;

  SparseSum(const FeatureSettings& features, const Regime& regime)
      : gains_{&regime.gain, &regime.general},
        topics_(regime.topics.outputs > 0 ? &regime.topics : nullptr),
        gain_shifts_{Shift(features, regime.gain), Shift(features, regime.general)},
        topic_shift_(Shift(features, regime.topics)) {
    std::fill_n(topic_sums_.begin(), regime.topics.outputs, 0.0f);
  }

  void Add(std::span<const SparseHit> hits) override {
    for (const SparseHit& hit : hits) AddOne(hit.kind, hit.bucket, hit.weight);
  }

  void AddOne(SparseKind kind, uint32_t bucket, float weight) {
    const auto k = static_cast<size_t>(kind);
    total_[k] += weight;
    for (size_t layer = 0; layer < gains_.size(); ++layer) {
      if (gains_[layer]->outputs != kGainHeads) continue;
      const float* w =
          gains_[layer]->sparse.data() + size_t{bucket >> gain_shifts_[layer]} * kGainHeads;
      for (size_t h = 0; h < kGainHeads; ++h) {
        gain_sums_[layer][k][h] += static_cast<double>(w[h]) * weight;
      }
    }
    if (topics_ == nullptr || kind != SparseKind::kUnigram) return;
    const size_t n = topics_->outputs;
    const float* t = topics_->sparse.data() + size_t{bucket >> topic_shift_} * n;
    for (size_t o = 0; o < n; ++o) topic_sums_[o] += t[o] * weight;
  }

  // Head h of a gain layer (kSpecialist or kGeneral); each kind normalised by the square root
  // of its total weight (features.h).
  double Gain(size_t layer, size_t h) const {
    double raw = 0;
    for (size_t k = 0; k < kSparseKinds; ++k) {
      if (total_[k] > 0) raw += gain_sums_[layer][k][h] / std::sqrt(total_[k]);
    }
    return raw;
  }
  // The topics' sparse logits, each normalised like a gain head's unigram part.
  void Topics(std::span<double> out) const {
    const double total = total_[static_cast<size_t>(SparseKind::kUnigram)];
    if (!(total > 0)) return std::fill(out.begin(), out.end(), 0.0);
    const double root = std::sqrt(total);
    for (size_t o = 0; o < out.size(); ++o) out[o] = topic_sums_[o] / root;
  }

 private:
  static uint32_t Shift(const FeatureSettings& features, const Layer& layer) {
    return layer.outputs == 0 ? 0 : features.bucket_bits - layer.bucket_bits;
  }

  std::array<const Layer*, 2> gains_;
  const Layer* topics_;
  std::array<uint32_t, 2> gain_shifts_;
  uint32_t topic_shift_;
  std::array<double, kSparseKinds> total_{};
  std::array<std::array<std::array<double, kGainHeads>, kSparseKinds>, 2> gain_sums_{};
  // Only the regime's topics' first entries are used (and zeroed): zeroing all kMaxTopics of
  // this and of PartsOf's two arrays was 5 KB of stores a score, a third of its fixed cost.
  std::array<float, kMaxTopics> topic_sums_;
};

// Adds every output's dense part to out (one element per output). Feature-major, as the weights
// are stored, so the inner loop reads contiguous weights and zero features are skipped once, not
// once per output (the 57-topic softmax pays for this on every exam question).
void AddDense(const Layer& layer, const std::array<float, kDenseCount>& x, std::span<double> out) {
  for (size_t j = 0; j < kDenseCount; ++j) {
    if (x[j] == 0.0f) continue;
    const float* w = layer.dense.data() + j * layer.outputs;
    const double xj = x[j];
    for (size_t o = 0; o < out.size(); ++o) out[o] += static_cast<double>(w[o]) * xj;
  }
}

double Sigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }

// R of one gain layer of the regime, 0 when it has none.
double LayerGain(const SparseSum& sparse, size_t which, const Layer& layer,
                 const std::array<float, kDenseCount>& dense) {
  if (layer.outputs != kGainHeads) return 0.0;
  std::array<double, kGainHeads> dense_part{};
  AddDense(layer, dense, dense_part);
  return GainOf(sparse.Gain(which, 0) + dense_part[0], sparse.Gain(which, 1) + dense_part[1]);
}

}  // namespace

std::string Serialize(const ModelData& model) {
  Writer body;
  PutBody(model, body);
  Writer w;
  w.out().append(kMagic);
  w.Put(model.metadata.format_version);
  w.Put(uint32_t{0});
  w.Put(static_cast<uint64_t>(body.out().size()));
  w.out().append(body.out());
  const auto digest = Sha256(w.out());
  w.out().append(reinterpret_cast<const char*>(digest.data()), digest.size());
  return std::move(w.out());
}

core::Result<ModelData> Deserialize(std::string_view bytes, std::string_view name) {
  if (bytes.empty()) return Bad(name, "the file is empty");
  if (bytes.substr(0, kMagic.size()) != kMagic.substr(0, std::min(bytes.size(), kMagic.size()))) {
    return Bad(name, "not a Switchyard router model (bad magic)");
  }
  if (bytes.size() < kHeaderBytes) {
    return Bad(name, "truncated: " + std::to_string(bytes.size()) + " bytes, not even a header");
  }
  Reader header(bytes.substr(kMagic.size(), kHeaderBytes - kMagic.size()));
  const auto version = header.Get<uint32_t>();
  header.Get<uint32_t>();
  const auto body_bytes = header.Get<uint64_t>();
  if (version != kFormatVersion) {
    return Bad(name, "format version " + std::to_string(version) + "; this build reads version " +
                         std::to_string(kFormatVersion) +
                         " (retrain with switchyard router train)");
  }
  const uint64_t avail = bytes.size() - kHeaderBytes;
  if (body_bytes > avail || avail - body_bytes < kChecksumBytes) {
    return Bad(name, "truncated: " + std::to_string(bytes.size()) +
                         " bytes, the header announces " +
                         std::to_string(body_bytes + kHeaderBytes + kChecksumBytes));
  }
  if (avail - body_bytes > kChecksumBytes) {
    return Bad(name, "corrupted: " + std::to_string(avail - body_bytes - kChecksumBytes) +
                         " bytes after the checksum");
  }
  const size_t signed_bytes = kHeaderBytes + static_cast<size_t>(body_bytes);
  const auto digest = Sha256(bytes.substr(0, signed_bytes));
  if (std::memcmp(digest.data(), bytes.data() + signed_bytes, kChecksumBytes) != 0) {
    return Bad(name, "corrupted: its SHA-256 checksum does not match its contents");
  }
  ModelData model;
  Reader body(bytes.substr(kHeaderBytes, static_cast<size_t>(body_bytes)));
  const std::string malformed = GetBody(body, model);
  if (!malformed.empty()) return Bad(name, "malformed: " + malformed);
  model.metadata.format_version = version;
  return model;
}

double GainOf(double weak_fails_logit, double strong_fails_logit) {
  return Sigmoid(weak_fails_logit) - Sigmoid(strong_fails_logit);
}

void Softmax(std::span<double> logits) {
  if (logits.empty()) return;
  const double top = *std::max_element(logits.begin(), logits.end());
  double total = 0;
  for (double& z : logits) total += z = std::exp(z - top);
  for (double& z : logits) z /= total;
}

double Expect(std::span<const double> probabilities, std::span<const double> values) {
  double sum = 0;
  for (size_t o = 0; o < probabilities.size(); ++o) sum += probabilities[o] * values[o];
  return sum;
}

ScoreParts PartsOf(const ModelData& model, const core::Prompt& prompt, int task_type) {
  std::array<float, kDenseCount> dense{};
  ComputeDense(prompt, task_type, model.features, dense);
  ScoreParts parts;
  parts.options = dense[kOptionsSlot] != 0.0f;
  const Regime& regime = parts.options ? model.options : model.free_form;
  parts.topic_weight = regime.topic_weight;
  SparseSum sparse(model.features, regime);
  VisitSparse(prompt, model.features, sparse);
  // With no topics the specialist covers everything.
  double specialist_share = 1.0;
  if (const size_t n = regime.topics.outputs; n > 0) {
    std::array<double, kMaxTopics> p;  // the first n set by Topics (SparseSum's comment)
    std::array<double, kMaxTopics> dense_part;
    std::fill_n(dense_part.begin(), n, 0.0);
    const std::span<double> probabilities(p.data(), n);
    AddDense(regime.topics, dense, std::span<double>(dense_part.data(), n));
    sparse.Topics(probabilities);
    for (size_t o = 0; o < n; ++o) p[o] += dense_part[o];
    Softmax(probabilities);
    parts.topic = Expect(probabilities, regime.topic_gains);
    specialist_share = Expect(probabilities, regime.specialist);
  }
  parts.gain = LayerGain(sparse, SparseSum::kSpecialist, regime.gain, dense);
  if (regime.general.outputs == kGainHeads) {
    const double general = LayerGain(sparse, SparseSum::kGeneral, regime.general, dense);
    parts.gain = specialist_share * parts.gain + (1.0 - specialist_share) * general;
  }
  return parts;
}

double Combine(const ScoreParts& parts) {
  const double raw = parts.topic_weight * parts.topic + (1.0 - parts.topic_weight) * parts.gain;
  return std::clamp((raw + 1.0) / 2.0, 0.0, 1.0);
}

double ScoreWith(const ModelData& model, const core::Prompt& prompt, int task_type) {
  return Combine(PartsOf(model, prompt, task_type));
}

std::vector<double> CalibrationOf(std::vector<double> scores) {
  std::sort(scores.begin(), scores.end());
  std::vector<double> table(kCalibrationPoints);
  if (scores.empty()) return table;
  for (size_t i = 0; i < kCalibrationPoints; ++i) {
    table[i] = LinearQuantile(scores,
                              static_cast<double>(i) / static_cast<double>(kCalibrationPoints - 1));
  }
  return table;
}

}  // namespace sy::router::detail
