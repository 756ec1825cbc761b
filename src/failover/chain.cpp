#include "failover/chain.h"

namespace sy::failover {

bool IsRetryable(const core::Error& error) {
  switch (error.code) {
    case core::Errc::kRateLimited:
    case core::Errc::kUpstreamTimeout:
    case core::Errc::kUpstreamUnavailable:
      return true;
    case core::Errc::kUpstreamRejected:
      // Refused credentials or an unknown model name are about that provider, not the request:
      // another provider may well serve it.
      return error.upstream_status == 401 || error.upstream_status == 403 ||
             error.upstream_status == 404;
    default:
      return false;
  }
}

void Cooldowns::Note(const std::string& model_id, SteadyTime until) {
  auto& slot = until_[model_id];
  slot = std::max(slot, until);
}

std::optional<SteadyTime> Cooldowns::Until(const std::string& model_id, SteadyTime now) const {
  auto it = until_.find(model_id);
  if (it == until_.end() || it->second <= now) return std::nullopt;
  return it->second;
}

namespace detail {

std::optional<std::chrono::milliseconds> WaitForCooldown(SteadyTime until, SteadyTime now,
                                                         bool last, const ChainOptions& options) {
  auto wait = std::chrono::ceil<std::chrono::milliseconds>(until - now);
  if (!last || wait > options.max_retry_after || until >= options.deadline) return std::nullopt;
  return wait;
}

core::Error ExhaustedError(const std::vector<Attempt>& attempts, bool deadline_passed) {
  if (attempts.empty()) {
    return core::MakeError(
        deadline_passed ? core::Errc::kUpstreamTimeout : core::Errc::kUpstreamUnavailable,
        "no model could be tried");
  }
  // The last real error is the most telling; the message lists how many models were tried.
  core::Error last = attempts.back().error;
  for (auto it = attempts.rbegin(); it != attempts.rend(); ++it) {
    if (!it->skipped) {
      last = it->error;
      break;
    }
  }
  std::string tried;
  for (const auto& a : attempts) {
    if (!tried.empty()) tried += ", ";
    tried +=
        a.model->id + (a.skipped ? " (skipped)" : " (" + std::string(ErrcName(a.error.code)) + ")");
  }
  if (deadline_passed) {
    last.code = core::Errc::kUpstreamTimeout;
    last.message = "the request deadline passed; tried: " + tried;
  } else {
    last.message =
        "every model in the route failed; tried: " + tried + ". Last error: " + last.message;
  }
  return last;
}

}  // namespace detail
}  // namespace sy::failover
