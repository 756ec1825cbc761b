#include "routing/share_calibrator.h"

#include <algorithm>
#include <cmath>

#include "catalog/catalog.h"

namespace sy::routing {
namespace {

// Enough scores for the quantile to mean something (at a share of 0.2, 200 scores put the
// share's standard error near 0.03), and never more than the window itself.
constexpr int64_t kWarmUp = 200;
// The start's usage estimate counts as this many requests: the live means take over once real
// requests outnumber it.
constexpr double kPriorRequests = 20;

size_t BinOf(double score) {
  const auto bin = static_cast<size_t>(score * static_cast<double>(ShareCalibrator::kBins));
  return std::min(bin, ShareCalibrator::kBins - 1);
}

}  // namespace

ShareCalibrator::ShareCalibrator(double share, double start_threshold, int64_t window,
                                 std::optional<Budget> budget)
    : share_(share),
      window_(window),
      warm_up_(std::min(window, kWarmUp)),
      budget_(budget),
      threshold_(start_threshold) {
  if (!budget_) return;
  const core::Usage& u = budget_->usage;
  tokens_ = {static_cast<double>(u.input_tokens) * kPriorRequests,
             static_cast<double>(u.cached_input_tokens) * kPriorRequests,
             static_cast<double>(u.output_tokens) * kPriorRequests, kPriorRequests};
}

void ShareCalibrator::ObserveUsage(const core::Usage& usage) {
  if (!budget_) return;
  std::lock_guard lock(tokens_mu_);
  tokens_.input += static_cast<double>(usage.input_tokens);
  tokens_.cached_input += static_cast<double>(usage.cached_input_tokens);
  tokens_.output += static_cast<double>(usage.output_tokens);
  tokens_.requests += 1;
  if (tokens_.requests < 2.0 * static_cast<double>(window_)) return;
  for (double* sum : {&tokens_.input, &tokens_.cached_input, &tokens_.output, &tokens_.requests}) {
    *sum /= 2;  // halved together: the means stay what they were
  }
}

std::optional<core::Usage> ShareCalibrator::mean_usage() const {
  if (!budget_) return std::nullopt;
  std::lock_guard lock(tokens_mu_);
  const auto mean = [&](double sum) { return std::llround(sum / tokens_.requests); };
  core::Usage u;
  u.input_tokens = mean(tokens_.input);
  u.cached_input_tokens = mean(tokens_.cached_input);
  u.output_tokens = mean(tokens_.output);
  u.reported = true;
  return u;
}

ShareCalibrator::Spend ShareCalibrator::SpendAt(const Budget& budget, const core::Usage& usage,
                                                std::chrono::system_clock::time_point now) {
  Spend out;
  out.strong = catalog::ComputeCost(*budget.strong, usage, now).total;
  out.weak = catalog::ComputeCost(*budget.weak, usage, now).total;
  out.share =
      ShareForSpend(static_cast<double>(budget.per_1k.pico()) / 1000.0,
                    static_cast<double>(out.strong.pico()), static_cast<double>(out.weak.pico()));
  return out;
}

void ShareCalibrator::HoldBudget() {
  const auto usage = mean_usage();
  if (!usage) return;
  const Spend spend = SpendAt(*budget_, *usage, std::chrono::system_clock::now());
  share_.store(spend.share, std::memory_order_relaxed);
}

void ShareCalibrator::Observe(double score) {
  if (std::isnan(score)) return;
  bins_[BinOf(std::clamp(score, 0.0, 1.0))].fetch_add(1, std::memory_order_relaxed);
  const int64_t seen = seen_.fetch_add(1, std::memory_order_relaxed) + 1;
  if (seen >= warm_up_ && (seen == warm_up_ || seen % kRecomputeEvery == 0)) Recompute();
}

void ShareCalibrator::Recompute() {
  std::unique_lock lock(recomputing_, std::try_to_lock);
  if (!lock) return;
  HoldBudget();
  std::array<uint32_t, kBins> counts{};
  uint64_t total = 0;
  for (size_t i = 0; i < kBins; ++i) {
    counts[i] = bins_[i].load(std::memory_order_relaxed);
    total += counts[i];
  }
  if (auto threshold = ThresholdForShare(counts, share())) {
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

double ShareForSpend(double per_request, double strong, double weak) {
  double share = 1;
  if (strong > weak) {
    share = (per_request - weak) / (strong - weak);
  } else if (per_request < weak) {
    share = 0;
  }
  return std::clamp(share, 0.0, 1.0);
}

}  // namespace sy::routing
