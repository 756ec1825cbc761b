#include "router/metrics.h"

#include <cmath>
#include <vector>

#include <gtest/gtest.h>

namespace sy::router {
namespace {

constexpr double kEps = 1e-12;

// Five prompts; the two highest-scored are where the strong model gains, the second lowest is
// where it loses. Worked by hand (evaluate.py's rules):
//   edges        .1 .14 .18 .22 .26 .3 .34 .38 .42 .46 .5 (the last strict: score > .5)
//   shares       1  .8  .8  .6  .6  .6 .4  .4  .2  .2  0
//   performance  .8 .8  .8  1   1   1  1   1   .8  .8  .6
//   AUC = .14 + .18 + .2 + .18 + .16 = .86; weak .6, strong .8: APGR = (.86 - .6) / .2 = 1.3
//   CPT(50%): interp(.7) on the curve sorted by share lands between (0, .6) and (.2, .8): .1
struct Example {
  std::vector<double> scores = {0.1, 0.2, 0.3, 0.4, 0.5};
  std::vector<double> strong = {1, 0, 1, 1, 1};
  std::vector<double> weak = {1, 1, 1, 0, 0};
};

TEST(RouterMetricsTest, HandWorkedCurve) {
  const Example e;
  const RouterMetrics m = Evaluate(e.scores, e.strong, e.weak);
  ASSERT_EQ(m.curve.size(), 11u);
  const double shares[] = {0, .2, .2, .4, .4, .6, .6, .6, .8, .8, 1};
  const double perf[] = {.6, .8, .8, 1, 1, 1, 1, 1, .8, .8, .8};
  for (size_t i = 0; i < 11; ++i) {
    EXPECT_NEAR(m.curve[i].strong_share, shares[i], kEps) << i;
    EXPECT_NEAR(m.curve[i].performance, perf[i], kEps) << i;
  }
  EXPECT_TRUE(m.curve[0].strict);  // the maximum: nobody above it
  EXPECT_DOUBLE_EQ(m.curve[0].threshold, 0.5);
  EXPECT_DOUBLE_EQ(m.curve[10].threshold, 0.1);
  EXPECT_EQ(m.n, 5);
  EXPECT_NEAR(m.strong_performance, 0.8, kEps);
  EXPECT_NEAR(m.weak_performance, 0.6, kEps);
  EXPECT_NEAR(m.apgr, 1.3, 1e-9);
  EXPECT_NEAR(m.cpt50, 0.1, 1e-9);
  EXPECT_NEAR(m.cpt80, 0.16, 1e-9);
  EXPECT_NEAR(m.strong_share_at_95pct_quality, 0.16, 1e-9);  // .95 * .8 = .76
}

TEST(RouterMetricsTest, DecileEdgesFollowNumpyQuantiles) {
  const Example e;
  const auto edges = DecileEdges(e.scores);
  const double expected[] = {.1, .14, .18, .22, .26, .3, .34, .38, .42, .46, .5};
  for (size_t i = 0; i < 11; ++i) EXPECT_NEAR(edges[i], expected[i], kEps) << i;
  // numpy interpolates from the nearer end: at gamma >= 0.5 from the upper value.
  EXPECT_EQ(edges[5], 0.3);
  // Scores 0..10: the decile indices are k * 0.1 * 10, where k * 0.1 is not always k / 10 in
  // binary: 3 * 0.1 = 0.30000000000000004, so numpy's 30th percentile of 0..10 is just above 3 and
  // a prompt scored exactly 3 goes to the weak model. We keep that, as RouteLLM's curves do.
  std::vector<double> ints;
  for (int i = 0; i <= 10; ++i) ints.push_back(i);
  const auto int_edges = DecileEdges(ints);
  EXPECT_EQ(int_edges[3], std::nextafter(3.0, 4.0));
  EXPECT_EQ(int_edges[5], 5.0);
  EXPECT_EQ(int_edges[6], std::nextafter(6.0, 7.0));
  EXPECT_EQ(int_edges[7], 7.0);
  EXPECT_EQ(int_edges[10], 10.0);
}

TEST(RouterMetricsTest, NumpyInterpTable) {
  const std::vector<double> up = {1, 2, 3};
  const std::vector<double> up_f = {10, 20, 30};
  // Not ascending, as a dipping curve's performances are: numpy's search decides, and so do we.
  const std::vector<double> dip = {0, 2, 1, 3, 4};
  const std::vector<double> dip_f = {0, 10, 20, 30, 40};
  const struct {
    const std::vector<double>* xp;
    const std::vector<double>* fp;
    double x;
    double y;
  } cases[] = {
      {&up, &up_f, 2.5, 25},     {&up, &up_f, 0, 10},   {&up, &up_f, 9, 30},
      {&up, &up_f, 3, 30},       {&up, &up_f, 2, 20},   {&dip, &dip_f, 1.5, 7.5},
      {&dip, &dip_f, 2.5, 27.5}, {&dip, &dip_f, 4, 40}, {&dip, &dip_f, -1, 0},
  };
  for (const auto& c : cases) EXPECT_DOUBLE_EQ(NumpyInterp(c.x, *c.xp, *c.fp), c.y) << c.x;
  EXPECT_TRUE(std::isnan(NumpyInterp(std::nan(""), up, up_f)));
}

TEST(RouterMetricsTest, TrapzAndEqualModels) {
  const std::vector<double> x = {0, 0.5, 1};
  const std::vector<double> y = {1, 2, 2};
  EXPECT_DOUBLE_EQ(NumpyTrapz(y, x), 0.75 + 1.0);
  // Strong and weak equally good: PGR is undefined, and says so.
  const std::vector<double> scores = {0.1, 0.2, 0.3};
  const std::vector<double> same = {1, 0, 1};
  const RouterMetrics m = Evaluate(scores, same, same);
  EXPECT_TRUE(std::isnan(m.apgr));
  EXPECT_TRUE(std::isnan(m.cpt50));
  EXPECT_EQ(Evaluate({}, {}, {}).n, 0);
}

TEST(RouterMetricsTest, TiedScoresKeepDuplicateEdges) {
  // A length router's ties: every edge is 5 but the last, strict one.
  const std::vector<double> scores = {5, 5, 5, 5};
  const std::vector<double> strong = {1, 1, 1, 1};
  const std::vector<double> weak = {0, 0, 0, 0};
  const RouterMetrics m = Evaluate(scores, strong, weak);
  ASSERT_EQ(m.curve.size(), 11u);
  EXPECT_EQ(m.curve[0].strong_share, 0.0);
  EXPECT_EQ(m.curve[1].strong_share, 1.0);
  EXPECT_NEAR(m.apgr, 0.5, kEps);  // one step from 0 to 1: the trapezoid's half
}

TEST(RouterMetricsTest, RandomRouterIsNearHalfAndDeterministic) {
  std::vector<double> strong(2000, 1.0);
  std::vector<double> weak(2000, 0.0);
  for (size_t i = 0; i < weak.size(); i += 3) weak[i] = 1.0;
  const RouterMetrics a = EvaluateRandom(strong, weak, 7);
  const RouterMetrics b = EvaluateRandom(strong, weak, 7);
  EXPECT_EQ(a.apgr, b.apgr);
  EXPECT_NEAR(a.apgr, 0.5, 0.02);
  EXPECT_NEAR(a.cpt50, 0.5, 0.05);
  // Distinct uniform scores give the same shares every draw: 11 averaged points.
  ASSERT_EQ(a.curve.size(), 11u);
  EXPECT_DOUBLE_EQ(a.curve[1].strong_share, 0.1);
  EXPECT_NE(EvaluateRandom(strong, weak, 8).apgr, a.apgr);
}

}  // namespace
}  // namespace sy::router
