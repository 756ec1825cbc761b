#include "routing/health.h"

#include <algorithm>

namespace sy::routing {
namespace {

int64_t Nanos(SteadyTime t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

}  // namespace

Health::Health(const std::vector<std::string>& model_ids, std::chrono::milliseconds max_cooldown)
    : max_cooldown_(max_cooldown), until_ns_(model_ids.size()) {
  for (size_t i = 0; i < model_ids.size(); ++i) index_.emplace(model_ids[i], i);
}

std::optional<size_t> Health::IndexOf(std::string_view model_id) const {
  auto it = index_.find(model_id);
  if (it == index_.end()) return std::nullopt;
  return it->second;
}

void Health::NoteRetryAfter(std::string_view model_id, SteadyTime now,
                            std::chrono::milliseconds retry_after) {
  const auto index = IndexOf(model_id);
  if (!index) return;
  std::atomic<int64_t>& slot = until_ns_[*index];
  const int64_t until =
      Nanos(now + std::clamp(retry_after, std::chrono::milliseconds(0), max_cooldown_));
  int64_t seen = slot.load(std::memory_order_relaxed);
  while (seen < until && !slot.compare_exchange_weak(seen, until, std::memory_order_relaxed)) {
  }
}

std::optional<SteadyTime> Health::CooldownUntil(std::string_view model_id, SteadyTime now) const {
  const auto index = IndexOf(model_id);
  if (!index) return std::nullopt;
  const int64_t until = until_ns_[*index].load(std::memory_order_relaxed);
  if (until <= Nanos(now)) return std::nullopt;
  return SteadyTime(
      std::chrono::duration_cast<SteadyTime::duration>(std::chrono::nanoseconds(until)));
}

}  // namespace sy::routing
