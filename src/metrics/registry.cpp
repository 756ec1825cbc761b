#include "metrics/registry.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace sy::metrics {
namespace {

bool IsNameStart(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

bool ValidName(std::string_view name, bool colons) {
  if (name.empty() || !(IsNameStart(name[0]) || (colons && name[0] == ':'))) return false;
  for (char c : name) {
    if (!IsNameStart(c) && !IsDigit(c) && !(colons && c == ':')) return false;
  }
  return true;
}

// value / 10^decimals as its shortest exact decimal: (10, 6) -> "0.00001", (25, 1) -> "2.5".
std::string FormatScaled(int64_t value, int decimals) {
  const bool negative = value < 0;
  // Magnitude in uint64 so INT64_MIN does not overflow.
  uint64_t magnitude = negative ? ~static_cast<uint64_t>(value) + 1 : static_cast<uint64_t>(value);
  uint64_t scale = 1;
  for (int i = 0; i < decimals; ++i) scale *= 10;
  std::string out = negative ? "-" : "";
  out += std::to_string(magnitude / scale);
  uint64_t fraction = magnitude % scale;
  if (fraction == 0) return out;
  std::string digits = std::to_string(fraction);
  digits.insert(0, static_cast<size_t>(decimals) - digits.size(), '0');
  while (digits.back() == '0') digits.pop_back();
  return out + "." + digits;
}

void AppendEscaped(std::string_view text, bool quote, std::string& out) {
  for (char c : text) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (quote && c == '"') {
      out += "\\\"";
    } else {
      out.push_back(c);
    }
  }
}

// `name` + `{labels}` (or nothing) + ' ' + value + '\n'.
void AppendSample(std::string_view name, std::string_view labels, std::string_view value,
                  std::string& out) {
  out += name;
  if (!labels.empty()) {
    out += '{';
    out += labels;
    out += '}';
  }
  out += ' ';
  out += value;
  out += '\n';
}

bool EndsWith(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

}  // namespace

Histogram::Histogram(const Buckets& buckets)
    : buckets_(buckets),
      counts_(std::make_unique<std::atomic<int64_t>[]>(buckets.upper_bounds.size() + 1)) {}

void Histogram::Observe(int64_t value) {
  const auto& bounds = buckets_.upper_bounds;
  const auto bucket = std::lower_bound(bounds.begin(), bounds.end(), value) - bounds.begin();
  counts_[static_cast<size_t>(bucket)].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(value, std::memory_order_relaxed);
}

Histogram::Counts Histogram::Read() const {
  Counts counts;
  const size_t n = buckets_.upper_bounds.size() + 1;
  counts.cumulative.reserve(n);
  int64_t running = 0;
  for (size_t i = 0; i < n; ++i) {
    running += counts_[i].load(std::memory_order_relaxed);
    counts.cumulative.push_back(running);
  }
  counts.sum = sum_.load(std::memory_order_relaxed);
  return counts;
}

namespace detail {

std::string_view ClipLabelValue(std::string_view value) {
  if (value.size() <= kMaxLabelValueBytes) return value;
  size_t end = kMaxLabelValueBytes;
  // Back off continuation bytes (10xxxxxx) so the cut lands before a character's first byte.
  while (end > 0 && (static_cast<unsigned char>(value[end]) & 0xC0) == 0x80) --end;
  return value.substr(0, end);
}

void Require(bool ok, std::string_view message) {
  if (ok) return;
  std::fprintf(stderr, "%.*s\n", static_cast<int>(message.size()), message.data());
  std::abort();
}

uint64_t NextFamilyId() {
  static std::atomic<uint64_t> next{1};
  return next.fetch_add(1, std::memory_order_relaxed);
}

size_t LabelValuesHash::operator()(std::span<const std::string_view> values) const {
  size_t h = values.size();
  for (std::string_view v : values) {
    h ^= std::hash<std::string_view>()(v) + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
  }
  return h;
}

size_t LabelValuesHash::operator()(const std::vector<std::string>& values) const {
  std::array<std::string_view, kMaxLabels> views{};
  for (size_t i = 0; i < values.size(); ++i) views[i] = values[i];
  return (*this)(std::span<const std::string_view>(views.data(), values.size()));
}

bool LabelValuesEqual::operator()(std::span<const std::string_view> a,
                                  const std::vector<std::string>& b) const {
  return std::equal(a.begin(), a.end(), b.begin(), b.end());
}

void AppendHeader(const FamilyInfo& info, std::string& out) {
  out += "# HELP ";
  out += info.name;
  out += ' ';
  AppendEscaped(info.help, /*quote=*/false, out);
  out += "\n# TYPE ";
  out += info.name;
  out += ' ';
  out += info.type;
  out += '\n';
}

std::string JoinLabels(const std::vector<std::string>& names,
                       const std::vector<std::string>& values) {
  std::string out;
  for (size_t i = 0; i < names.size(); ++i) {
    if (i > 0) out += ',';
    out += names[i];
    out += "=\"";
    AppendEscaped(values[i], /*quote=*/true, out);
    out += '"';
  }
  return out;
}

void AppendSamples(const FamilyInfo& info, std::string_view labels, const Counter& metric,
                   std::string& out) {
  AppendSample(info.name, labels, std::to_string(metric.value()), out);
}

void AppendSamples(const FamilyInfo& info, std::string_view labels, const UsdCounter& metric,
                   std::string& out) {
  AppendSample(info.name, labels, metric.value().ToString(), out);
}

void AppendSamples(const FamilyInfo& info, std::string_view labels, const Gauge& metric,
                   std::string& out) {
  AppendSample(info.name, labels, std::to_string(metric.value()), out);
}

void AppendSamples(const FamilyInfo& info, std::string_view labels, const UsdGauge& metric,
                   std::string& out) {
  AppendSample(info.name, labels, metric.value().ToString(), out);
}

void AppendSamples(const FamilyInfo& info, std::string_view labels, const FractionGauge& metric,
                   std::string& out) {
  AppendSample(info.name, labels, FormatScaled(metric.millionths(), FractionGauge::kDecimals), out);
}

void AppendSamples(const FamilyInfo& info, std::string_view labels, const Histogram& metric,
                   std::string& out) {
  const Histogram::Counts counts = metric.Read();
  const std::string bucket_name = info.name + "_bucket";
  const std::string prefix = labels.empty() ? std::string() : std::string(labels) + ",";
  const auto& bounds = info.buckets.upper_bounds;
  for (size_t i = 0; i <= bounds.size(); ++i) {
    const std::string le =
        i < bounds.size() ? FormatScaled(bounds[i], info.buckets.decimals) : "+Inf";
    AppendSample(bucket_name, prefix + "le=\"" + le + "\"", std::to_string(counts.cumulative[i]),
                 out);
  }
  AppendSample(info.name + "_sum", labels, FormatScaled(counts.sum, info.buckets.decimals), out);
  AppendSample(info.name + "_count", labels, std::to_string(counts.cumulative.back()), out);
}

}  // namespace detail

void FractionGauge::Set(double value) {
  const double scaled = std::isnan(value) ? 0.0 : value * 1e6;
  // Clamped so that llround cannot overflow; no fraction this gauge shows comes near.
  millionths_.store(std::llround(std::clamp(scaled, -9e18, 9e18)), std::memory_order_relaxed);
}

detail::FamilyInfo Registry::Check(std::string name, std::string help, std::string_view type,
                                   std::vector<std::string> label_names, Buckets buckets) const {
  detail::Require(ValidName(name, /*colons=*/true), "metrics: invalid metric name " + name);
  for (const auto& family : families_) {
    detail::Require(family->name() != name, "metrics: metric added twice: " + name);
  }
  detail::Require(label_names.size() <= kMaxLabels, "metrics: too many labels on " + name);
  for (const std::string& label : label_names) {
    detail::Require(ValidName(label, /*colons=*/false) && !label.starts_with("__") &&
                        !(type == "histogram" && label == "le"),
                    "metrics: invalid label name " + label + " on " + name);
  }
  detail::Require(type != "counter" || EndsWith(name, "_total"),
                  "metrics: counter name must end in _total: " + name);
  detail::Require(buckets.decimals >= 0 && buckets.decimals <= 18,
                  "metrics: bucket decimals out of 0..18 on " + name);
  detail::Require(
      std::adjacent_find(buckets.upper_bounds.begin(), buckets.upper_bounds.end(),
                         [](int64_t a, int64_t b) { return a >= b; }) == buckets.upper_bounds.end(),
      "metrics: bucket bounds must increase on " + name);
  return detail::FamilyInfo{std::move(name), std::move(help), type, std::move(label_names),
                            std::move(buckets)};
}

template <typename Metric>
Family<Metric>& Registry::Emplace(detail::FamilyInfo info) {
  auto family = std::make_unique<Family<Metric>>(std::move(info));
  Family<Metric>& ref = *family;
  families_.push_back(std::move(family));
  return ref;
}

Family<Counter>& Registry::AddCounter(std::string name, std::string help,
                                      std::vector<std::string> label_names) {
  return Emplace<Counter>(
      Check(std::move(name), std::move(help), "counter", std::move(label_names)));
}

Family<UsdCounter>& Registry::AddUsdCounter(std::string name, std::string help,
                                            std::vector<std::string> label_names) {
  detail::Require(EndsWith(name, "_usd_total"), "metrics: USD counter must end in _usd_total");
  return Emplace<UsdCounter>(
      Check(std::move(name), std::move(help), "counter", std::move(label_names)));
}

Family<Gauge>& Registry::AddGauge(std::string name, std::string help,
                                  std::vector<std::string> label_names) {
  return Emplace<Gauge>(Check(std::move(name), std::move(help), "gauge", std::move(label_names)));
}

Family<UsdGauge>& Registry::AddUsdGauge(std::string name, std::string help,
                                        std::vector<std::string> label_names) {
  return Emplace<UsdGauge>(
      Check(std::move(name), std::move(help), "gauge", std::move(label_names)));
}

Family<FractionGauge>& Registry::AddFractionGauge(std::string name, std::string help,
                                                  std::vector<std::string> label_names) {
  return Emplace<FractionGauge>(
      Check(std::move(name), std::move(help), "gauge", std::move(label_names)));
}

Family<Histogram>& Registry::AddHistogram(std::string name, std::string help,
                                          std::vector<std::string> label_names, Buckets buckets) {
  return Emplace<Histogram>(Check(std::move(name), std::move(help), "histogram",
                                  std::move(label_names), std::move(buckets)));
}

std::string Registry::Render() const {
  std::string out;
  RenderTo(out);
  return out;
}

void Registry::RenderTo(std::string& out) const {
  for (const auto& family : families_) family->Render(out);
}

}  // namespace sy::metrics
