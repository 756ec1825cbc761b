// router metrics: how well a strong-or-weak router trades strong-model calls for quality, computed
// exactly as RouteLLM's routellm/evals/evaluate.py and evals/benchmarks.py do (lm-sys/RouteLLM at
// 0b64fdafe049e596a3f5657c219329f24af24198), so our figures compare with theirs:
//
//   thresholds  the 11 edges of pandas.qcut(scores, 10): numpy's linear-interpolation quantiles
//               at 0, 0.1, ..., 1 (duplicates kept);
//   curve       per edge, the prompts with score >= edge go to the strong model (at the last edge,
//               the maximum, score > edge, so nobody does); a point is (strong share, mean
//               performance of the routed answers); points sorted by strong share;
//   PGR         (performance - weak) / (strong - weak), weak and strong the two models' means;
//   APGR        (AUC - weak AUC) / (strong AUC - weak AUC), numpy.trapz areas over the share;
//   CPT(x)      numpy.interp(weak + x (strong - weak), performances, shares): the strong share
//               needed to recover x of the gap, interpolated along the curve (numpy.interp's
//               search included, which matters when the curve is not monotone);
//   strong_share_at_95pct_quality: numpy.interp(0.95 strong, performances, shares).
// Shares are fractions (RouteLLM prints percentages); performances are whatever the outcomes are
// (0/1 correctness, a 1-10 grade), as PGR does not depend on their scale.
//
// Thread-safety: pure functions over values.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <vector>

namespace sy::router {

struct CurvePoint {
  double threshold = 0;     // the score edge
  bool strict = false;      // the last edge: only scores above it go strong (score > threshold)
  double strong_share = 0;  // of the prompts, those sent to the strong model
  double performance = 0;   // mean outcome of the routed answers

  // Whether a prompt of this score goes to the strong model at this point.
  bool Strong(double score) const { return strict ? score > threshold : score >= threshold; }
};

struct RouterMetrics {
  int64_t n = 0;
  double strong_performance = 0;  // all prompts to the strong model
  double weak_performance = 0;    // all to the weak one
  std::vector<CurvePoint> curve;  // ascending strong share
  // NaN when strong and weak perform the same (PGR is undefined), or n == 0.
  double apgr = 0;
  double cpt50 = 0;
  double cpt80 = 0;
  double strong_share_at_95pct_quality = 0;
};

// numpy's default (linear) quantile of ascending `sorted` at q in [0, 1]: index q (n - 1),
// interpolated with numpy's _lerp. REQUIRES: !sorted.empty().
double LinearQuantile(std::span<const double> sorted, double q);

// The 11 threshold edges pandas.qcut(scores, 10, retbins=True) returns. REQUIRES: !scores.empty().
std::array<double, 11> DecileEdges(std::span<const double> scores);

// numpy.interp(x, xp, fp) for one x, including its search when xp is not ascending.
// REQUIRES: xp.size() == fp.size() > 0.
double NumpyInterp(double x, std::span<const double> xp, std::span<const double> fp);

// numpy.trapz(y, x). REQUIRES: x.size() == y.size().
double NumpyTrapz(std::span<const double> y, std::span<const double> x);

// The metrics of a router giving `scores[i]` to prompt i, whose outcomes with the strong and the
// weak model are strong[i] and weak[i]. REQUIRES: all three the same size.
RouterMetrics Evaluate(std::span<const double> scores, std::span<const double> strong,
                       std::span<const double> weak);

// RouteLLM's random router: uniform scores, `iterations` draws (RouteLLM: 10), the curve points
// averaged per strong share (their groupby), then the metrics of that averaged curve.
// Deterministic in `seed` (our own draws from std::mt19937_64, not Python's).
RouterMetrics EvaluateRandom(std::span<const double> strong, std::span<const double> weak,
                             uint64_t seed, int iterations = 10);

// The metrics of a given curve (points in any order; sorted here, stably, by strong share).
RouterMetrics Summarize(std::vector<CurvePoint> curve, double strong_performance,
                        double weak_performance, int64_t n);

}  // namespace sy::router
