// routing::ShareCalibrator: holds a `router` rule's strong share on the traffic the gateway
// serves (`calibration: live`).
//
// A share calibrated on the router's training prompts (router::Model::ThresholdForShare) holds
// for traffic that scores like them. Production traffic is mostly free-form and scores otherwise,
// so the share it gets drifts from the one configured. The calibrator keeps a histogram of the
// scores of recent requests and sets the threshold at the quantile that sends the configured
// share of them to the strong side. Until it has seen `warm_up()` scores it keeps the threshold
// it started with (the training calibration).
//
// Memory is fixed: kBins counters. "Recent" is a decaying window: when the histogram holds twice
// `window` scores every count is halved, so the threshold follows the last `window` to
// 2 x `window` requests, older ones fading.
//
// Thread-safety: Observe and the getters may be called from any thread at once. Observe is a
// relaxed increment; once warmed up, every kRecomputeEvery-th call also recomputes the threshold
// (one walk over the bins, about a microsecond), unless another thread is doing so.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <mutex>
#include <optional>
#include <span>

#include "config/config.h"

namespace sy::routing {

class ShareCalibrator {
 public:
  // Scores are in [0, 1]; 2048 bins of about 0.0005 each (router scores of real traffic spread
  // over a tenth of the range or less).
  static constexpr size_t kBins = 2048;
  static constexpr int64_t kRecomputeEvery = 64;

  // REQUIRES: 0 <= share <= 1; config::kMinCalibrationWindow <= window <=
  // config::kMaxCalibrationWindow.
  ShareCalibrator(double share, double start_threshold, int64_t window);

  // The threshold in force: a score at or above it goes to the strong side.
  double Threshold() const { return threshold_.load(std::memory_order_relaxed); }
  // A routed request's score. NaN is ignored; the rest is clamped to [0, 1].
  void Observe(double score);

  double share() const { return share_; }
  int64_t window() const { return window_; }
  // Scores observed since start, and how many it takes before the threshold moves.
  int64_t seen() const { return seen_.load(std::memory_order_relaxed); }
  int64_t warm_up() const { return warm_up_; }

  ShareCalibrator(const ShareCalibrator&) = delete;
  ShareCalibrator& operator=(const ShareCalibrator&) = delete;

 private:
  void Recompute();

  const double share_;
  const int64_t window_;
  const int64_t warm_up_;
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

}  // namespace sy::routing
