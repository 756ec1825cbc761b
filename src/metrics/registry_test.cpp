#include "metrics/registry.h"

#include <cmath>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace sy::metrics {
namespace {

TEST(RegistryTest, RendersACounterWithLabelsSortedByValue) {
  Registry registry;
  auto& requests =
      registry.AddCounter("app_requests_total", "Requests answered.", {"method", "status"});
  requests.With({"POST", "200"}).Add(3);
  requests.With({"GET", "404"}).Add();
  requests.With({"POST", "200"}).Add(2);
  EXPECT_EQ(registry.Render(),
            "# HELP app_requests_total Requests answered.\n"
            "# TYPE app_requests_total counter\n"
            "app_requests_total{method=\"GET\",status=\"404\"} 1\n"
            "app_requests_total{method=\"POST\",status=\"200\"} 5\n");
}

TEST(RegistryTest, AFamilyWithoutLabelsShowsZeroFromTheStart) {
  Registry registry;
  registry.AddCounter("app_errors_total", "Errors.", {});
  auto& depth = registry.AddGauge("app_queue_depth", "Queued items.", {});
  EXPECT_EQ(registry.Render(),
            "# HELP app_errors_total Errors.\n"
            "# TYPE app_errors_total counter\n"
            "app_errors_total 0\n"
            "# HELP app_queue_depth Queued items.\n"
            "# TYPE app_queue_depth gauge\n"
            "app_queue_depth 0\n");
  depth.With({}).Set(7);
  depth.With({}).Add(-2);
  EXPECT_EQ(depth.With({}).value(), 5);
}

TEST(RegistryTest, RendersAGaugeAndALabelledFamilyWithNoChildYet) {
  Registry registry;
  auto& state =
      registry.AddGauge("app_breaker_state", "0 closed, 1 half-open, 2 open.", {"deployment"});
  registry.AddCounter("app_limited_total", "Refused requests.", {"tenant"});
  state.With({"east"}).Set(2);
  state.With({"west"}).Set(0);
  EXPECT_EQ(registry.Render(),
            "# HELP app_breaker_state 0 closed, 1 half-open, 2 open.\n"
            "# TYPE app_breaker_state gauge\n"
            "app_breaker_state{deployment=\"east\"} 2\n"
            "app_breaker_state{deployment=\"west\"} 0\n"
            "# HELP app_limited_total Refused requests.\n"
            "# TYPE app_limited_total counter\n");
}

TEST(RegistryTest, UsdValuesPrintAsExactDecimals) {
  Registry registry;
  auto& cost = registry.AddUsdCounter("app_cost_usd_total", "Spend.", {"model"});
  auto& budget = registry.AddUsdGauge("app_budget_usd", "Budget.", {});
  // 0.1 + 0.2 is exactly 0.3 here (a double would print 0.30000000000000004).
  cost.With({"m"}).Add(core::Money::FromPico(100'000'000'000));
  cost.With({"m"}).Add(core::Money::FromPico(200'000'000'000));
  cost.With({"tiny"}).Add(core::Money::FromPico(1));
  budget.With({}).Set(core::Money::FromPico(12'500'000'000'000));
  EXPECT_EQ(registry.Render(),
            "# HELP app_cost_usd_total Spend.\n"
            "# TYPE app_cost_usd_total counter\n"
            "app_cost_usd_total{model=\"m\"} 0.3\n"
            "app_cost_usd_total{model=\"tiny\"} 0.000000000001\n"
            "# HELP app_budget_usd Budget.\n"
            "# TYPE app_budget_usd gauge\n"
            "app_budget_usd 12.5\n");
}

// Regression: a USD counter past the largest Money wrapped negative, which Prometheus reads as
// a counter reset (and rate() as a spike); it stops at the largest Money instead.
TEST(RegistryTest, AUsdCounterStopsAtTheLargestMoneyInsteadOfWrapping) {
  Registry registry;
  auto& cost = registry.AddUsdCounter("app_cost_usd_total", "Spend.", {});
  const core::Money max = core::Money::FromPico(INT64_MAX);
  cost.With({}).Add(core::Money::FromPico(INT64_MAX - 5));
  cost.With({}).Add(core::Money::FromPico(5));
  EXPECT_EQ(cost.With({}).value(), max);
  cost.With({}).Add(core::Money::FromPico(1));
  cost.With({}).Add(max);
  EXPECT_EQ(cost.With({}).value(), max);
  EXPECT_NE(registry.Render().find("app_cost_usd_total 9223372.036854775807\n"), std::string::npos)
      << registry.Render();
}

TEST(RegistryTest, FractionsPrintAsExactDecimalsOfTheirMillionths) {
  Registry registry;
  auto& share = registry.AddFractionGauge("app_share", "A share.", {"rule"});
  share.With({"a"}).Set(0.5741234);     // rounded to the millionth
  share.With({"b"}).Set(0.1 + 0.2);     // 0.30000000000000004 as a double
  share.With({"c"}).Set(1.0000000001);  // a threshold just above every score
  share.With({"d"}).Set(std::nan(""));
  share.With({"e"}).Set(-0.25);
  EXPECT_EQ(registry.Render(),
            "# HELP app_share A share.\n"
            "# TYPE app_share gauge\n"
            "app_share{rule=\"a\"} 0.574123\n"
            "app_share{rule=\"b\"} 0.3\n"
            "app_share{rule=\"c\"} 1\n"
            "app_share{rule=\"d\"} 0\n"
            "app_share{rule=\"e\"} -0.25\n");
}

TEST(RegistryTest, RendersAHistogramCumulativeWithExactBoundsAndSum) {
  Registry registry;
  // Microseconds of a _seconds metric: bounds 10us, 100us, 2.5ms.
  auto& latency = registry.AddHistogram("app_latency_seconds", "Latency.", {"route"},
                                        Buckets{{10, 100, 2500}, 6});
  auto& chat = latency.With({"chat"});
  chat.Observe(10);    // on a bound: counted in that bucket (le is inclusive)
  chat.Observe(11);    // -> 100
  chat.Observe(2500);  // -> 2500
  chat.Observe(9000);  // -> +Inf
  EXPECT_EQ(registry.Render(),
            "# HELP app_latency_seconds Latency.\n"
            "# TYPE app_latency_seconds histogram\n"
            "app_latency_seconds_bucket{route=\"chat\",le=\"0.00001\"} 1\n"
            "app_latency_seconds_bucket{route=\"chat\",le=\"0.0001\"} 2\n"
            "app_latency_seconds_bucket{route=\"chat\",le=\"0.0025\"} 3\n"
            "app_latency_seconds_bucket{route=\"chat\",le=\"+Inf\"} 4\n"
            "app_latency_seconds_sum{route=\"chat\"} 0.011521\n"
            "app_latency_seconds_count{route=\"chat\"} 4\n");
}

TEST(RegistryTest, HistogramWithoutLabels) {
  Registry registry;
  auto& size = registry.AddHistogram("app_body_bytes", "Body sizes.", {}, Buckets{{100}, 0});
  size.With({}).Observe(250);
  EXPECT_EQ(registry.Render(),
            "# HELP app_body_bytes Body sizes.\n"
            "# TYPE app_body_bytes histogram\n"
            "app_body_bytes_bucket{le=\"100\"} 0\n"
            "app_body_bytes_bucket{le=\"+Inf\"} 1\n"
            "app_body_bytes_sum 250\n"
            "app_body_bytes_count 1\n");
}

TEST(RegistryTest, EscapesLabelValuesAndHelp) {
  Registry registry;
  auto& family =
      registry.AddCounter("app_odd_total", "Line one\nback\\slash \"quoted\".", {"value"});
  family.With({"a\\b\"c\nd"}).Add();
  EXPECT_EQ(registry.Render(),
            "# HELP app_odd_total Line one\\nback\\\\slash \"quoted\".\n"
            "# TYPE app_odd_total counter\n"
            "app_odd_total{value=\"a\\\\b\\\"c\\nd\"} 1\n");
}

TEST(RegistryTest, CutsLongLabelValuesOnACharacterBoundary) {
  Registry registry;
  auto& family = registry.AddCounter("app_names_total", "Names.", {"name"});
  // 127 ASCII bytes then a 2-byte character straddling byte 128: cut before it, at 127.
  const std::string straddling = std::string(127, 'x') + "\xC3\xA9" + "tail";
  family.With({straddling}).Add();
  // A different long value with the same first 128 bytes is the same child.
  const std::string long_a = std::string(128, 'y') + "a";
  const std::string long_b = std::string(128, 'y') + "b";
  family.With({long_a}).Add();
  family.With({long_b}).Add();
  EXPECT_EQ(&family.With({long_a}), &family.With({std::string(128, 'y')}));
  EXPECT_EQ(registry.Render(),
            "# HELP app_names_total Names.\n"
            "# TYPE app_names_total counter\n"
            "app_names_total{name=\"" +
                std::string(127, 'x') + "\"} 1\n" + "app_names_total{name=\"" +
                std::string(128, 'y') + "\"} 2\n");
}

TEST(RegistryTest, WithReturnsTheSameChildForTheSameValues) {
  Registry registry;
  auto& family = registry.AddCounter("app_x_total", "X.", {"a", "b"});
  Counter& first = family.With({"1", "2"});
  EXPECT_EQ(&first, &family.With({"1", "2"}));
  EXPECT_NE(&first, &family.With({"2", "1"}));
  EXPECT_NE(&first, &family.With({"12", ""}));  // values are not joined into one string
}

// With's per-thread memo (detail::tls_last_child) is keyed by the family's id and a mix of the
// values: families whose slots collide, and families that replaced destroyed ones, get their
// own child.
TEST(RegistryTest, WithNeverReturnsAnotherFamilysChild) {
  Registry registry;
  std::vector<Family<Counter>*> families;
  for (size_t i = 0; i <= detail::kLastChildSlots; ++i) {
    families.push_back(
        &registry.AddCounter("app_f" + std::to_string(i) + "_total", "F.", {"name"}));
  }
  // The first and the last share a slot: alternating between them misses every time.
  for (int round = 0; round < 3; ++round) {
    families.front()->With({"v"}).Add(1);
    families.back()->With({"v"}).Add(10);
  }
  EXPECT_EQ(families.front()->With({"v"}).value(), 3);
  EXPECT_EQ(families.back()->With({"v"}).value(), 30);
  EXPECT_EQ(families[1]->With({"v"}).value(), 0);

  // Each registry's family replaces the last one's, at the same address or another: under
  // ASan a child remembered from a destroyed family would be a use after free.
  for (size_t i = 0; i < 2 * detail::kLastChildSlots; ++i) {
    Registry short_lived;
    auto& family = short_lived.AddCounter("app_once_total", "Once.", {"name"});
    family.With({"x"}).Add();
    EXPECT_EQ(family.With({"x"}).value(), 1) << "registry " << i;
  }
}

TEST(RegistryTest, ConcurrentUpdatesAreAllCounted) {
  Registry registry;
  auto& family = registry.AddCounter("app_hits_total", "Hits.", {"worker"});
  auto& latency = registry.AddHistogram("app_wait_seconds", "Wait.", {}, Buckets{{5}, 6}).With({});
  constexpr int kThreads = 4;
  constexpr int kPerThread = 10'000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      const std::string own = std::to_string(t);
      for (int i = 0; i < kPerThread; ++i) {
        family.With({"shared"}).Add();
        family.With({own}).Add();
        latency.Observe(i % 10);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(family.With({"shared"}).value(), kThreads * kPerThread);
  EXPECT_EQ(family.With({"3"}).value(), kPerThread);
  const Histogram::Counts counts = latency.Read();
  EXPECT_EQ(counts.cumulative,
            (std::vector<int64_t>{kThreads * kPerThread * 6 / 10, kThreads * kPerThread}));
  EXPECT_EQ(counts.sum, int64_t{kThreads} * (kPerThread / 10) * 45);
}

TEST(RegistryDeathTest, ProgrammerErrorsAbortWithAMessage) {
  Registry registry;
  registry.AddCounter("app_a_total", "A.", {"x"});
  EXPECT_DEATH(registry.AddCounter("app_a_total", "again", {}), "added twice");
  EXPECT_DEATH(registry.AddCounter("app_b", "no suffix", {}), "_total");
  EXPECT_DEATH(registry.AddUsdCounter("app_c_total", "not usd", {}), "_usd_total");
  EXPECT_DEATH(registry.AddGauge("app-d", "dash", {}), "invalid metric name");
  EXPECT_DEATH(registry.AddGauge("app_e", "label", {"bad-label"}), "invalid label name");
  EXPECT_DEATH(registry.AddHistogram("app_f", "le", {"le"}, Buckets{{1}, 0}), "invalid label");
  EXPECT_DEATH(registry.AddHistogram("app_g", "order", {}, Buckets{{2, 2}, 0}), "increase");
  auto& family = registry.AddCounter("app_h_total", "H.", {"x", "y"});
  EXPECT_DEATH(family.With({"only one"}), "wrong number of label values");
}

}  // namespace
}  // namespace sy::metrics
