// metrics::Registry: counter, gauge and histogram families with fixed label names, rendered in
// the Prometheus text exposition format 0.0.4. Pure: no I/O, no clock, no globals.
//
// A family has a name, a help text and a fixed list of label names; its children (one per set of
// label values) are created at zero on first use and live as long as the registry, so a caller
// may keep the reference With() returns.
//
// Values are integers, never binary floats, so what is printed is exact:
//   - Counter and Gauge hold an int64 count.
//   - UsdCounter and UsdGauge hold core::Money (an int64 of pico-dollars) and print it as its
//     exact decimal (Money::ToString: "0.000123"). To Prometheus they are ordinary float samples;
//     the text carries the exact sum, so a scrape compares to the ledger to the pico-dollar
//     (up to the largest Money, where a USD counter stops).
//     A USD counter's name ends in "_usd_total".
//   - FractionGauge holds a value to six decimals (an int64 of millionths, rounded when set) and
//     prints that decimal exactly: a share, a threshold ("0.574123").
//   - Histogram observes integers in a base unit (for seconds, microseconds: Buckets::decimals =
//     6); bucket bounds and the sum are printed as exact decimals of the metric's unit.
//
// Label values: the caller keeps them bounded (a few hundred distinct sets per family at most:
// model names, tenants, status codes, never request ids or keys). Each value is also cut to
// kMaxLabelValueBytes on a UTF-8 character boundary, so one long value cannot bloat a scrape.
// In the text, backslash, double quote and newline in a label value are escaped (\\, \", \n),
// and backslash and newline in a help text.
//
// Misuse that is a programmer error (an invalid or repeated metric name, an invalid label name,
// more than kMaxLabels labels, bounds not increasing, a wrong number of label values) aborts with
// a message on stderr: it shows on the first start or test, never later under load.
//
// Thread-safety: families are added before the registry is shared (Add* are not thread-safe).
// After that, With, every metric method and Render may be called from any thread at any time.
// Updates are relaxed atomic operations. With returns at once the child the calling thread got
// last from that family when the label values are the same (a per-thread memo); otherwise it
// takes the family's reader lock to find an existing child (shared by every caller, no
// exclusive lock in steady state) and the writer lock only to add a new label set. Render reads
// each value on its own, so a scrape is not one instant: a histogram's _sum may be one observation
// apart from its buckets.
#pragma once

#include <algorithm>
#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/money.h"
#include "core/saturating.h"

namespace sy::metrics {

inline constexpr size_t kMaxLabelValueBytes = 128;
inline constexpr size_t kMaxLabels = 8;

class Counter {
 public:
  // REQUIRES: n >= 0 (a counter only goes up).
  void Add(int64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
  int64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<int64_t> value_{0};
};

class UsdCounter {
 public:
  // REQUIRES: amount >= 0. Saturates at the largest Money (about 9.2 million USD a series): a
  // counter that wrapped negative would read to Prometheus as a reset, and rate() as a spike.
  void Add(core::Money amount) {
    int64_t seen = pico_.load(std::memory_order_relaxed);
    while (!pico_.compare_exchange_weak(seen, core::SaturatingAdd(seen, amount.pico()),
                                        std::memory_order_relaxed)) {
    }
  }
  core::Money value() const { return core::Money::FromPico(pico_.load(std::memory_order_relaxed)); }

 private:
  std::atomic<int64_t> pico_{0};
};

class Gauge {
 public:
  void Set(int64_t value) { value_.store(value, std::memory_order_relaxed); }
  void Add(int64_t delta) { value_.fetch_add(delta, std::memory_order_relaxed); }
  int64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<int64_t> value_{0};
};

class UsdGauge {
 public:
  void Set(core::Money amount) { pico_.store(amount.pico(), std::memory_order_relaxed); }
  core::Money value() const { return core::Money::FromPico(pico_.load(std::memory_order_relaxed)); }

 private:
  std::atomic<int64_t> pico_{0};
};

class FractionGauge {
 public:
  static constexpr int kDecimals = 6;
  // Rounded to the nearest millionth; NaN sets 0.
  void Set(double value);
  int64_t millionths() const { return millionths_.load(std::memory_order_relaxed); }

 private:
  std::atomic<int64_t> millionths_{0};
};

// A histogram's bucket upper bounds (inclusive, "le"), strictly increasing, in a base unit that
// is 10^-decimals of the metric's unit: {{10, 100}, 6} are 10us and 100us of a _seconds metric.
// +Inf is implicit.
struct Buckets {
  std::vector<int64_t> upper_bounds;
  int decimals = 0;  // 0..18
};

class Histogram {
 public:
  explicit Histogram(const Buckets& buckets);

  // Counts `value` (in the buckets' base unit) in the first bucket whose bound is >= value.
  void Observe(int64_t value);

  struct Counts {
    std::vector<int64_t> cumulative;  // per bound, then +Inf (= count)
    int64_t sum = 0;                  // in the base unit
  };
  Counts Read() const;

 private:
  const Buckets& buckets_;                          // owned by the family
  std::unique_ptr<std::atomic<int64_t>[]> counts_;  // per bucket, non-cumulative, +Inf last
  std::atomic<int64_t> sum_{0};
};

namespace detail {

// What a family is, fixed when it is added.
struct FamilyInfo {
  std::string name;
  std::string help;
  std::string_view type;  // "counter" | "gauge" | "histogram"
  std::vector<std::string> label_names;
  Buckets buckets;  // histograms only
};

// A label value as stored: cut to kMaxLabelValueBytes on a UTF-8 character boundary.
std::string_view ClipLabelValue(std::string_view value);
// Aborts with `message` unless `ok` (programmer errors only; see the header comment).
void Require(bool ok, std::string_view message);

// Child lookup by label values without building a key: stored keys are vectors of strings, a
// lookup is a span of (already clipped) views; both hash and compare alike.
struct LabelValuesHash {
  using is_transparent = void;
  size_t operator()(std::span<const std::string_view> values) const;
  size_t operator()(const std::vector<std::string>& values) const;
};
struct LabelValuesEqual {
  using is_transparent = void;
  bool operator()(std::span<const std::string_view> a, const std::vector<std::string>& b) const;
  bool operator()(const std::vector<std::string>& a, std::span<const std::string_view> b) const {
    return (*this)(b, a);
  }
  bool operator()(const std::vector<std::string>& a, const std::vector<std::string>& b) const {
    return a == b;
  }
};

// "# HELP ..." and "# TYPE ..." lines.
void AppendHeader(const FamilyInfo& info, std::string& out);
// `a="x",b="y"` (escaped), "" with no labels.
std::string JoinLabels(const std::vector<std::string>& names,
                       const std::vector<std::string>& values);
// The sample lines of one child; `labels` as JoinLabels made them.
void AppendSamples(const FamilyInfo& info, std::string_view labels, const Counter& metric,
                   std::string& out);
void AppendSamples(const FamilyInfo& info, std::string_view labels, const UsdCounter& metric,
                   std::string& out);
void AppendSamples(const FamilyInfo& info, std::string_view labels, const Gauge& metric,
                   std::string& out);
void AppendSamples(const FamilyInfo& info, std::string_view labels, const UsdGauge& metric,
                   std::string& out);
void AppendSamples(const FamilyInfo& info, std::string_view labels, const FractionGauge& metric,
                   std::string& out);
void AppendSamples(const FamilyInfo& info, std::string_view labels, const Histogram& metric,
                   std::string& out);

// With's fast path: each thread remembers the children it was given last, in a direct-mapped
// table indexed by the family and a cheap mix of the label values (their sizes and last bytes,
// so that one family's few label sets in a request, like the token counter's kinds, mostly
// land in different slots). A hit skips hashing the values and the family's reader lock, whose
// shared count every worker's requests would otherwise write (a cache line moving between
// cores on every request). A family is known by an id that is never reused, so a slot that a
// destroyed family left behind can never match: its entry is read only after the id matched.
struct LastChild {
  uint64_t family = 0;          // 0: empty
  const void* entry = nullptr;  // the family's map entry: its label values and its child
};
inline constexpr size_t kLastChildSlots = 256;
inline thread_local std::array<LastChild, kLastChildSlots> tls_last_child{};
inline LastChild& LastChildSlot(uint64_t family, std::span<const std::string_view> values) {
  uint64_t mix = family;
  for (std::string_view v : values) {
    mix = mix * 31 + v.size() * 7 + (v.empty() ? 0 : static_cast<unsigned char>(v.back()));
  }
  return tls_last_child[mix % kLastChildSlots];
}
// A new family's id: 1, 2, ... never the same twice in a process.
uint64_t NextFamilyId();

}  // namespace detail

class FamilyBase {
 public:
  virtual ~FamilyBase() = default;
  FamilyBase(const FamilyBase&) = delete;
  FamilyBase& operator=(const FamilyBase&) = delete;

  const std::string& name() const { return info_.name; }
  const std::vector<std::string>& label_names() const { return info_.label_names; }
  // Appends HELP, TYPE and every child's samples, children ordered by their label values.
  virtual void Render(std::string& out) const = 0;

 protected:
  explicit FamilyBase(detail::FamilyInfo info) : info_(std::move(info)) {}
  detail::FamilyInfo info_;
};

template <typename Metric>
class Family final : public FamilyBase {
 public:
  explicit Family(detail::FamilyInfo info) : FamilyBase(std::move(info)) {
    if (info_.label_names.empty()) With(std::span<const std::string_view>());  // always shown
  }

  // The child for these label values (in label_names() order), created at zero on first use.
  // REQUIRES: values.size() == label_names().size().
  Metric& With(std::span<const std::string_view> values) {
    // Checked before the message is built: this runs on every request.
    if (values.size() != info_.label_names.size()) {
      detail::Require(false, "metrics: wrong number of label values for " + info_.name);
    }
    std::array<std::string_view, kMaxLabels> clipped{};
    for (size_t i = 0; i < values.size(); ++i) clipped[i] = detail::ClipLabelValue(values[i]);
    const std::span<const std::string_view> key(clipped.data(), values.size());
    detail::LastChild& last = detail::LastChildSlot(id_, key);
    if (last.family == id_) {
      const auto& [stored, child] = *static_cast<const Entry*>(last.entry);
      if (std::equal(key.begin(), key.end(), stored.begin(), stored.end())) return *child;
    }
    const Entry* entry = Find(key);
    last = {id_, entry};
    return *entry->second;
  }
  Metric& With(std::initializer_list<std::string_view> values) {
    return With(std::span<const std::string_view>(values.begin(), values.size()));
  }

  void Render(std::string& out) const override {
    detail::AppendHeader(info_, out);
    std::shared_lock lock(mu_);
    std::vector<std::pair<const std::vector<std::string>*, const Metric*>> sorted;
    sorted.reserve(children_.size());
    for (const auto& [values, metric] : children_) sorted.emplace_back(&values, metric.get());
    std::sort(sorted.begin(), sorted.end(),
              [](const auto& a, const auto& b) { return *a.first < *b.first; });
    for (const auto& [values, metric] : sorted) {
      detail::AppendSamples(info_, detail::JoinLabels(info_.label_names, *values), *metric, out);
    }
  }

 private:
  using Children = std::unordered_map<std::vector<std::string>, std::unique_ptr<Metric>,
                                      detail::LabelValuesHash, detail::LabelValuesEqual>;
  using Entry = typename Children::value_type;

  // The child's entry, added at zero when new. Children are never removed, so the entry (which
  // the memo points to) lives as long as the family.
  const Entry* Find(std::span<const std::string_view> key) {
    {
      std::shared_lock lock(mu_);
      if (auto it = children_.find(key); it != children_.end()) return &*it;
    }
    std::unique_lock lock(mu_);
    if (auto it = children_.find(key); it != children_.end()) return &*it;
    std::vector<std::string> stored(key.begin(), key.end());
    return &*children_.emplace(std::move(stored), MakeChild()).first;
  }

  std::unique_ptr<Metric> MakeChild() const {
    if constexpr (std::is_same_v<Metric, Histogram>) {
      return std::make_unique<Histogram>(info_.buckets);
    } else {
      return std::make_unique<Metric>();
    }
  }

  const uint64_t id_ = detail::NextFamilyId();
  mutable std::shared_mutex mu_;
  Children children_;
};

class Registry {
 public:
  Registry() = default;
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // Each adds a family; the reference lives as long as the registry. Names follow Prometheus
  // ([a-zA-Z_:][a-zA-Z0-9_:]*), unique in the registry; counters end in "_total", USD counters
  // in "_usd_total". Label names are [a-zA-Z_][a-zA-Z0-9_]*, not "__"-prefixed, not "le" on a
  // histogram. A family without labels has its one child from the start (shown at 0).
  Family<Counter>& AddCounter(std::string name, std::string help,
                              std::vector<std::string> label_names);
  Family<UsdCounter>& AddUsdCounter(std::string name, std::string help,
                                    std::vector<std::string> label_names);
  Family<Gauge>& AddGauge(std::string name, std::string help, std::vector<std::string> label_names);
  Family<UsdGauge>& AddUsdGauge(std::string name, std::string help,
                                std::vector<std::string> label_names);
  Family<FractionGauge>& AddFractionGauge(std::string name, std::string help,
                                          std::vector<std::string> label_names);
  Family<Histogram>& AddHistogram(std::string name, std::string help,
                                  std::vector<std::string> label_names, Buckets buckets);

  // The exposition of every family in the order they were added.
  std::string Render() const;
  void RenderTo(std::string& out) const;

 private:
  detail::FamilyInfo Check(std::string name, std::string help, std::string_view type,
                           std::vector<std::string> label_names, Buckets buckets = {}) const;
  template <typename Metric>
  Family<Metric>& Emplace(detail::FamilyInfo info);

  std::vector<std::unique_ptr<FamilyBase>> families_;
};

}  // namespace sy::metrics
