#include "routing/share_calibrator.h"

#include <algorithm>
#include <cmath>

namespace sy::routing {
namespace {

// Enough scores for the quantile to mean something (at a share of 0.2, 200 scores put the
// share's standard error near 0.03), and never more than the window itself.
constexpr int64_t kWarmUp = 200;

size_t BinOf(double score) {
  const auto bin = static_cast<size_t>(score * static_cast<double>(ShareCalibrator::kBins));
  return std::min(bin, ShareCalibrator::kBins - 1);
}

}  // namespace

ShareCalibrator::ShareCalibrator(double share, double start_threshold, int64_t window)
    : share_(share),
      window_(window),
      warm_up_(std::min(window, kWarmUp)),
      threshold_(start_threshold) {}

void ShareCalibrator::Observe(double score) {
  if (std::isnan(score)) return;
  bins_[BinOf(std::clamp(score, 0.0, 1.0))].fetch_add(1, std::memory_order_relaxed);
  const int64_t seen = seen_.fetch_add(1, std::memory_order_relaxed) + 1;
  if (seen >= warm_up_ && (seen == warm_up_ || seen % kRecomputeEvery == 0)) Recompute();
}

void ShareCalibrator::Recompute() {
  std::unique_lock lock(recomputing_, std::try_to_lock);
  if (!lock) return;
  std::array<uint32_t, kBins> counts{};
  uint64_t total = 0;
  for (size_t i = 0; i < kBins; ++i) {
    counts[i] = bins_[i].load(std::memory_order_relaxed);
    total += counts[i];
  }
  if (auto threshold = ThresholdForShare(counts, share_)) {
    threshold_.store(*threshold, std::memory_order_relaxed);
  }
  if (total < 2 * static_cast<uint64_t>(window_)) return;
  // Halve what was counted; increments that land meanwhile are kept whole.
  for (size_t i = 0; i < kBins; ++i) {
    bins_[i].fetch_sub(counts[i] - counts[i] / 2, std::memory_order_relaxed);
  }
}

std::optional<double> ThresholdForShare(std::span<const uint32_t> bins, double share) {
  uint64_t total = 0;
  for (const uint32_t n : bins) total += n;
  if (total == 0) return std::nullopt;
  if (!(share > 0)) return std::nextafter(1.0, 2.0);
  if (share >= 1) return 0.0;
  const double width = 1.0 / static_cast<double>(bins.size());
  const double wanted = share * static_cast<double>(total);
  double above = 0;  // scores in the bins above the current one
  for (size_t i = bins.size(); i-- > 0;) {
    const auto n = static_cast<double>(bins[i]);
    if (above + n >= wanted) {
      // The bin's top edge less the part of it the share still needs.
      const double top = static_cast<double>(i + 1) * width;
      return std::max(0.0, top - (wanted - above) / n * width);
    }
    above += n;
  }
  return 0.0;
}

}  // namespace sy::routing
