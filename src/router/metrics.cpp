#include "router/metrics.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>

namespace sy::router {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
// numpy's binary_search_with_guess looks this far around its guess before bisecting.
constexpr std::ptrdiff_t kLikelyInCache = 8;

// numpy's binary_search_with_guess (numpy/_core/src/multiarray/compiled_base.c): the index i with
// arr[i] <= key < arr[i + 1] when arr ascends; -1 below, len above. When arr does not ascend
// (a curve whose performance dips), the answer is whatever this exact search finds.
std::ptrdiff_t SearchWithGuess(double key, std::span<const double> arr, std::ptrdiff_t guess) {
  const auto len = static_cast<std::ptrdiff_t>(arr.size());
  const auto at = [&](std::ptrdiff_t i) { return arr[static_cast<size_t>(i)]; };
  if (key > at(len - 1)) return len;
  if (key < at(0)) return -1;
  if (len <= 4) {
    std::ptrdiff_t i = 1;
    while (i < len && key >= at(i)) ++i;
    return i - 1;
  }
  guess = std::clamp<std::ptrdiff_t>(guess, 1, len - 3);
  std::ptrdiff_t imin = 0;
  std::ptrdiff_t imax = len;
  if (key < at(guess)) {
    if (key >= at(guess - 1)) return guess - 1;
    imax = guess - 1;
    if (guess > kLikelyInCache && key >= at(guess - kLikelyInCache)) imin = guess - kLikelyInCache;
  } else {
    if (key < at(guess + 1)) return guess;
    if (key < at(guess + 2)) return guess + 1;
    imin = guess + 2;
    if (guess < len - kLikelyInCache - 1 && key < at(guess + kLikelyInCache)) {
      imax = guess + kLikelyInCache;
    }
  }
  while (imin < imax) {
    const std::ptrdiff_t imid = imin + ((imax - imin) >> 1);
    if (key >= at(imid)) {
      imin = imid + 1;
    } else {
      imax = imid;
    }
  }
  return imin - 1;
}

// The curve of one set of scores, in threshold order (descending share), as benchmarks.py yields.
std::vector<CurvePoint> RawCurve(std::span<const double> scores, std::span<const double> strong,
                                 std::span<const double> weak) {
  const auto edges = DecileEdges(scores);
  const double n = static_cast<double>(scores.size());
  std::vector<CurvePoint> curve;
  curve.reserve(edges.size());
  for (size_t k = 0; k < edges.size(); ++k) {
    const double edge = edges[k];
    const bool last = k + 1 == edges.size();
    int64_t to_strong = 0;
    double total = 0;
    for (size_t i = 0; i < scores.size(); ++i) {
      const bool pick = last ? scores[i] > edge : scores[i] >= edge;  // benchmarks.py's rule
      to_strong += pick;
      total += pick ? strong[i] : weak[i];
    }
    curve.push_back({edge, last, static_cast<double>(to_strong) / n, total / n});
  }
  return curve;
}

double Mean(std::span<const double> values) {
  double total = 0;
  for (const double v : values) total += v;
  return values.empty() ? 0.0 : total / static_cast<double>(values.size());
}

}  // namespace

double LinearQuantile(std::span<const double> sorted, double q) {
  const double last = static_cast<double>(sorted.size() - 1);
  const double index = last * q;
  if (index >= last) return sorted.back();
  if (index < 0) return sorted.front();
  const double lo = std::floor(index);
  const double gamma = index - lo;
  const double a = sorted[static_cast<size_t>(lo)];
  const double b = sorted[static_cast<size_t>(lo) + 1];
  // numpy's _lerp interpolates from the nearer end.
  return gamma >= 0.5 ? b - (b - a) * (1 - gamma) : a + (b - a) * gamma;
}

std::array<double, 11> DecileEdges(std::span<const double> scores) {
  std::vector<double> sorted(scores.begin(), scores.end());
  std::sort(sorted.begin(), sorted.end());
  std::array<double, 11> edges{};
  for (size_t k = 0; k < edges.size(); ++k) {
    // numpy.linspace(0, 1, 11) is k * 0.1 with the end exact; pandas hands numpy.percentile the
    // percentages (q * 100), which divides them back.
    double q = k + 1 == edges.size() ? 1.0 : static_cast<double>(k) * 0.1;
    q = q * 100.0 / 100.0;
    edges[k] = LinearQuantile(sorted, q);
  }
  return edges;
}

double NumpyInterp(double x, std::span<const double> xp, std::span<const double> fp) {
  if (std::isnan(x)) return x;
  if (xp.size() == 1) return fp[0];  // numpy: left, right or fp[0], all fp[0] by default
  const auto len = static_cast<std::ptrdiff_t>(xp.size());
  const std::ptrdiff_t j = SearchWithGuess(x, xp, 0);
  if (j == -1) return fp.front();
  if (j == len) return fp.back();
  const auto u = static_cast<size_t>(j);
  if (j == len - 1 || xp[u] == x) return fp[u];
  const double slope = (fp[u + 1] - fp[u]) / (xp[u + 1] - xp[u]);
  double y = slope * (x - xp[u]) + fp[u];
  if (std::isnan(y)) {
    y = slope * (x - xp[u + 1]) + fp[u + 1];
    if (std::isnan(y) && fp[u] == fp[u + 1]) y = fp[u];
  }
  return y;
}

double NumpyTrapz(std::span<const double> y, std::span<const double> x) {
  double area = 0;
  for (size_t i = 1; i < x.size(); ++i) area += (x[i] - x[i - 1]) * (y[i] + y[i - 1]) / 2.0;
  return area;
}

RouterMetrics Summarize(std::vector<CurvePoint> curve, double strong_performance,
                        double weak_performance, int64_t n) {
  std::stable_sort(curve.begin(), curve.end(), [](const CurvePoint& a, const CurvePoint& b) {
    return a.strong_share < b.strong_share;
  });
  RouterMetrics m;
  m.n = n;
  m.strong_performance = strong_performance;
  m.weak_performance = weak_performance;
  m.curve = std::move(curve);
  if (m.curve.empty() || strong_performance == weak_performance) {
    m.apgr = m.cpt50 = m.cpt80 = m.strong_share_at_95pct_quality = kNaN;
    return m;
  }
  std::vector<double> shares;
  std::vector<double> perf;
  for (const auto& p : m.curve) {
    shares.push_back(p.strong_share);
    perf.push_back(p.performance);
  }
  const std::vector<double> weak_line(shares.size(), weak_performance);
  const std::vector<double> strong_line(shares.size(), strong_performance);
  const double auc = NumpyTrapz(perf, shares);
  const double weak_auc = NumpyTrapz(weak_line, shares);
  const double strong_auc = NumpyTrapz(strong_line, shares);
  m.apgr = (auc - weak_auc) / (strong_auc - weak_auc);
  const double gap = strong_performance - weak_performance;
  m.cpt50 = NumpyInterp(0.5 * gap + weak_performance, perf, shares);
  m.cpt80 = NumpyInterp(0.8 * gap + weak_performance, perf, shares);
  m.strong_share_at_95pct_quality = NumpyInterp(0.95 * strong_performance, perf, shares);
  return m;
}

RouterMetrics Evaluate(std::span<const double> scores, std::span<const double> strong,
                       std::span<const double> weak) {
  const auto n = static_cast<int64_t>(scores.size());
  if (scores.empty()) return Summarize({}, 0, 0, 0);
  return Summarize(RawCurve(scores, strong, weak), Mean(strong), Mean(weak), n);
}

RouterMetrics EvaluateRandom(std::span<const double> strong, std::span<const double> weak,
                             uint64_t seed, int iterations) {
  if (strong.empty()) return Summarize({}, 0, 0, 0);
  struct Group {
    double share = 0;
    bool strict = false;
    double threshold_sum = 0;
    double performance_sum = 0;
    int count = 0;
  };
  std::vector<Group> groups;
  std::mt19937_64 rng(seed);
  std::vector<double> scores(strong.size());
  for (int it = 0; it < iterations; ++it) {
    // Uniform in [0, 1) from the top 53 bits: exact and the same on every platform, unlike
    // std::uniform_real_distribution.
    for (double& s : scores) s = static_cast<double>(rng() >> 11) * 0x1.0p-53;
    for (const CurvePoint& p : RawCurve(scores, strong, weak)) {
      auto g = std::find_if(groups.begin(), groups.end(),
                            [&](const Group& x) { return x.share == p.strong_share; });
      if (g == groups.end())
        g = groups.insert(groups.end(), Group{p.strong_share, p.strict, 0, 0, 0});
      g->threshold_sum += p.threshold;
      g->performance_sum += p.performance;
      g->count++;
    }
  }
  std::vector<CurvePoint> curve;
  for (const Group& g : groups) {
    curve.push_back({g.threshold_sum / g.count, g.strict, g.share, g.performance_sum / g.count});
  }
  return Summarize(std::move(curve), Mean(strong), Mean(weak), static_cast<int64_t>(strong.size()));
}

}  // namespace sy::router
