// routing::ShareCalibrator: holds a `router` rule's strong share, or its spend, on the traffic
// the gateway serves (`calibration: live`).
//
// A share calibrated on the router's training prompts (router::Model::ThresholdForShare) holds
// for traffic that scores like them. Production traffic is mostly free-form and scores otherwise,
// so the share it gets drifts from the one configured. The calibrator keeps a histogram of the
// scores of recent requests and sets the threshold at the quantile that sends the configured
// share of them to the strong side. Until it has seen `warm_up()` scores it keeps the threshold
// it started with (the training calibration).
//
// A budget per request is a share too, but the share it buys depends on what a request costs on
// each side, which the start can only estimate: each side's first model's prices for the
// training prompts' mean length and the configured output tokens. Given a Budget, the calibrator
// also keeps the mean usage (prompt, cached and output tokens) of the requests it routes
// (ObserveUsage, starting from the estimate), prices it on both sides (SpendAt) and holds the
// share whose mix spends the budget. Usage is learned from both sides' requests alike, so a side
// the share sends nothing to is still priced.
//
// Memory is fixed: kBins counters and four sums. "Recent" is a decaying window: when the
// histogram holds twice `window` scores every count is halved (and so are the usage sums at
// twice `window` requests), so the threshold follows the last `window` to 2 x `window` requests,
// older ones fading.
//
// Thread-safety: every member may be called from any thread at once. Observe is a relaxed
// increment; once warmed up, every kRecomputeEvery-th call also recomputes the threshold (one
// walk over the bins, about a microsecond), unless another thread is doing so. ObserveUsage
// takes a mutex for four additions.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <span>

#include "config/config.h"
#include "core/money.h"
#include "core/usage.h"

namespace sy::routing {

class ShareCalibrator {
 public:
  // Scores are in [0, 1]; 2048 bins of about 0.0005 each (router scores of real traffic spread
  // over a tenth of the range or less).
  static constexpr size_t kBins = 2048;
  static constexpr int64_t kRecomputeEvery = 64;

  // A spend to hold per 1,000 requests, the prices of each side's first model, and the start's
  // estimate of a request's usage.
  struct Budget {
    core::Money per_1k;
    const config::PriceSchedule* strong = nullptr;  // the catalog's: outlives the calibrator
    const config::PriceSchedule* weak = nullptr;
    core::Usage usage;
  };
  // What a request of `usage` costs on each side (prices in force at `now`), and the share whose
  // mix of the two spends the budget (ShareForSpend).
  struct Spend {
    core::Money strong;
    core::Money weak;
    double share = 0;
  };
  static Spend SpendAt(const Budget& budget, const core::Usage& usage,
                       std::chrono::system_clock::time_point now);

  // REQUIRES: 0 <= share <= 1; config::kMinCalibrationWindow <= window <=
  // config::kMaxCalibrationWindow. With a budget, `share` is the one its estimate buys.
  ShareCalibrator(double share, double start_threshold, int64_t window,
                  std::optional<Budget> budget = std::nullopt);

  // The threshold in force: a score at or above it goes to the strong side.
  double Threshold() const { return threshold_.load(std::memory_order_relaxed); }
  // A routed request's score. NaN is ignored; the rest is clamped to [0, 1].
  void Observe(double score);
  // A routed request's usage, all its attempts together. Ignored without a budget.
  void ObserveUsage(const core::Usage& usage);

  // The share held: the configured one, or the one the budget buys at the mean usage.
  double share() const { return share_.load(std::memory_order_relaxed); }
  // A request's mean usage (tokens rounded; the start's estimate until requests come in);
  // nullopt without a budget.
  std::optional<core::Usage> mean_usage() const;
  const std::optional<Budget>& budget() const { return budget_; }
  int64_t window() const { return window_; }
  // Scores observed since start, and how many it takes before the threshold moves.
  int64_t seen() const { return seen_.load(std::memory_order_relaxed); }
  int64_t warm_up() const { return warm_up_; }

  ShareCalibrator(const ShareCalibrator&) = delete;
  ShareCalibrator& operator=(const ShareCalibrator&) = delete;

 private:
  void Recompute();
  void HoldBudget();

  // Decayed sums of the routed requests' tokens.
  struct Tokens {
    double input = 0;
    double cached_input = 0;
    double output = 0;
    double requests = 0;
  };

  std::atomic<double> share_;
  const int64_t window_;
  const int64_t warm_up_;
  const std::optional<Budget> budget_;
  mutable std::mutex tokens_mu_;
  Tokens tokens_;  // guarded by tokens_mu_
  std::array<std::atomic<uint32_t>, kBins> bins_{};
  std::atomic<int64_t> seen_{0};
  std::atomic<double> threshold_;
  std::mutex recomputing_;  // try-locked: one thread recomputes, the others go on
};
// A bin never holds more than the 2 x window scores the histogram is halved at.
static_assert(2 * config::kMaxCalibrationWindow < int64_t{UINT32_MAX});

// Pure: the threshold at or above which `share` of the scores counted in `bins` lie (bins split
// [0, 1] evenly; a bin's scores are taken as spread evenly across it). A share of 0 or less gives
// a threshold above 1 (no score reaches it), 1 or more gives 0; nullopt when the bins are empty.
std::optional<double> ThresholdForShare(std::span<const uint32_t> bins, double share);

// Pure: the strong share whose mix of the two sides' costs per request spends `per_request`,
// clamped to [0, 1]: 0 when even the weak side alone costs more, 1 when the strong side alone
// fits (or costs no more than the weak one and the budget covers the weak one).
double ShareForSpend(double per_request, double strong, double weak);

}  // namespace sy::routing
