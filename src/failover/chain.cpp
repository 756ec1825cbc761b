#include "failover/chain.h"

#include <algorithm>

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

std::string_view OutcomeName(Outcome outcome) {
  switch (outcome) {
    case Outcome::kOk:
      return "ok";
    case Outcome::kSkipped:
      return "skipped";
    case Outcome::kFailed:
      break;
  }
  return "failed";
}

namespace detail {

std::optional<std::chrono::milliseconds> WaitForCooldown(SteadyTime until, SteadyTime now,
                                                         bool last, const ChainOptions& options) {
  auto wait = std::chrono::ceil<std::chrono::milliseconds>(until - now);
  if (!last || wait > options.max_retry_after || until >= options.deadline) return std::nullopt;
  return wait;
}

Attempt CoolingSkip(const config::ModelConfig& model, SteadyTime until, SteadyTime now) {
  Attempt skip(&model, Outcome::kSkipped);
  skip.error = core::MakeError(core::Errc::kRateLimited,
                               "skipped: cooling down after the upstream's retry-after");
  skip.error.retry_after = std::chrono::ceil<std::chrono::milliseconds>(until - now);
  return skip;
}

bool MayStart(int sent, SteadyTime now, const ChainOptions& options) {
  if (sent >= options.max_attempts || now >= options.deadline) return false;
  return !(options.stopped && options.stopped());
}

namespace {

std::string Tried(const std::vector<Attempt>& attempts) {
  std::string tried;
  for (const auto& a : attempts) {
    if (!tried.empty()) tried += ", ";
    tried += a.model->id + (a.sent() ? " (" + std::string(ErrcName(a.error.code)) + ")"
                                     : std::string(" (skipped)"));
  }
  return tried;
}

// Every candidate was cooling: a 429 whose retry-after is the shortest time left.
core::Error AllCooling(const std::vector<Attempt>& attempts) {
  core::Error e = attempts.front().error;
  for (const auto& a : attempts) {
    if (a.error.retry_after && (!e.retry_after || *a.error.retry_after < *e.retry_after)) {
      e.retry_after = a.error.retry_after;
    }
  }
  e.message =
      "every model in the route is cooling down after its upstream's retry-after; "
      "tried: " +
      Tried(attempts);
  return e;
}

}  // namespace

core::Error ExhaustedError(const std::vector<Attempt>& attempts, bool deadline_passed) {
  if (attempts.empty()) {
    return core::MakeError(
        deadline_passed ? core::Errc::kUpstreamTimeout : core::Errc::kUpstreamUnavailable,
        "no model could be tried");
  }
  const auto last_sent =
      std::find_if(attempts.rbegin(), attempts.rend(), [](const Attempt& a) { return a.sent(); });
  const bool all_cooling = std::all_of(attempts.begin(), attempts.end(), [](const Attempt& a) {
    return !a.sent() && a.error.code == core::Errc::kRateLimited;
  });
  if (all_cooling && !deadline_passed) return AllCooling(attempts);
  // The last real error is the most telling; the message lists how many models were tried.
  core::Error last = last_sent != attempts.rend() ? last_sent->error : attempts.back().error;
  if (deadline_passed) {
    last.code = core::Errc::kUpstreamTimeout;
    last.message = "the request deadline passed; tried: " + Tried(attempts);
  } else {
    last.message = "every model in the route failed; tried: " + Tried(attempts) +
                   ". Last error: " + last.message;
  }
  return last;
}

}  // namespace detail
}  // namespace sy::failover
